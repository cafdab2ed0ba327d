import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { formatHostPort } from './listen.js';
import { createFrameReader, frameMessage } from './tcp-frames.js';
import { encodeQuery } from './wire.js';

/** Options of `queryUdp` / `queryTcp`. */
export interface ClientQueryOptions {
  /** Give up after this long. Default 2000. */
  timeoutMs?: number;
  /** Message ID; default random. */
  id?: number;
  /** RD flag; default true. */
  recursionDesired?: boolean;
  /** Send an OPT record advertising `udpSize` (RFC 6891). */
  edns?: { udpSize: number; do?: boolean };
}

/** What `sendRawTcp` saw. */
export interface TcpExchange {
  /** Complete response messages received, without length prefixes, in arrival order. */
  frames: Buffer[];
  /** The server closed (or reset) the connection before the expected frames arrived. */
  closed: boolean;
}

const DEFAULT_TIMEOUT_MS = 2000;

/**
 * Sends one query over UDP and decodes the response with the same ID (others are ignored).
 * @throws Error (rejects) on timeout, naming server, question and limit; or on a socket error.
 */
export async function queryUdp(
  host: string,
  port: number,
  name: string,
  type: string,
  opts: ClientQueryOptions = {},
): Promise<dnsPacket.DecodedPacket> {
  const { id, bytes, timeoutMs } = prepare(name, type, opts);
  const reply = await exchangeUdp(
    host,
    port,
    bytes,
    timeoutMs,
    (msg) => msg.length >= 2 && msg.readUInt16BE(0) === id,
  );
  if (reply === undefined) throw timeoutError('udp', host, port, name, type, timeoutMs);
  return dnsPacket.decode(reply);
}

/**
 * Sends one query over TCP (one connection) and decodes the response.
 * @throws Error (rejects) on timeout or when the server closes first, naming server, question and limit.
 */
export async function queryTcp(
  host: string,
  port: number,
  name: string,
  type: string,
  opts: ClientQueryOptions = {},
): Promise<dnsPacket.DecodedPacket> {
  const { bytes, timeoutMs } = prepare(name, type, opts);
  const got = await sendRawTcp(host, port, [frameMessage(bytes)], 1, timeoutMs);
  const reply = got.frames[0];
  if (reply === undefined) {
    if (got.closed)
      throw new Error(`DNS: tcp ${formatHostPort(host, port)} closed before answering ${name} ${type}`);
    throw timeoutError('tcp', host, port, name, type, timeoutMs);
  }
  return dnsPacket.decode(reply);
}

/**
 * Sends raw bytes as one UDP datagram and returns the first datagram back from that port, or undefined when
 * none arrives within `timeoutMs` (for asserting that a packet is dropped).
 * @throws Error (rejects) on a socket error.
 */
export function sendRawUdp(
  host: string,
  port: number,
  bytes: Uint8Array,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  return exchangeUdp(host, port, bytes, timeoutMs, () => true);
}

/**
 * Connects, writes `chunks` in order (each after the previous one was handed to the kernel; the caller adds
 * length prefixes, so partial and pipelined frames can be sent), and collects response frames until `expect`
 * arrived, the server closed, or `timeoutMs` passed. Always closes the connection.
 * @throws Error (rejects) when the connection cannot be made.
 */
export function sendRawTcp(
  host: string,
  port: number,
  chunks: Uint8Array[],
  expect: number,
  timeoutMs: number,
): Promise<TcpExchange> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const reader = createFrameReader();
    const frames: Buffer[] = [];
    let connected = false;
    let done = false;
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ frames, closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    const writeFrom = (i: number): void => {
      const chunk = chunks[i];
      if (chunk === undefined || done) return;
      sock.write(chunk, (err) => {
        if (!err) writeFrom(i + 1);
      });
    };
    sock.setNoDelay(true);
    sock.on('connect', () => {
      connected = true;
      writeFrom(0);
    });
    sock.on('data', (chunk: Buffer) => {
      // Copy: frames may share memory with the chunk and outlive this callback.
      for (const f of reader.push(chunk)) frames.push(Buffer.from(f));
      if (frames.length >= expect) finish(false);
    });
    sock.on('close', () => finish(true));
    sock.on('error', (err) => {
      if (connected) {
        finish(true); // reset by the server after connecting counts as a close
        return;
      }
      done = true;
      clearTimeout(timer);
      reject(
        new Error(`DNS: cannot connect to tcp ${formatHostPort(host, port)}: ${err.message}`, { cause: err }),
      );
    });
  });
}

function prepare(name: string, type: string, opts: ClientQueryOptions) {
  const id = opts.id ?? randomInt(0, 0x10000);
  const bytes = encodeQuery({
    id,
    name,
    type,
    ...(opts.recursionDesired === undefined ? {} : { recursionDesired: opts.recursionDesired }),
    ...(opts.edns === undefined ? {} : { edns: opts.edns }),
  });
  return { id, bytes, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS };
}

function exchangeUdp(
  host: string,
  port: number,
  bytes: Uint8Array,
  timeoutMs: number,
  accept: (msg: Buffer) => boolean,
): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const finish = (err: Error | undefined, reply: Buffer | undefined): void => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply);
    };
    const timer = setTimeout(() => finish(undefined, undefined), timeoutMs);
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port === port && accept(msg)) finish(undefined, msg);
    });
    socket.on('error', (err) =>
      finish(new Error(`DNS: udp ${formatHostPort(host, port)}: ${err.message}`), undefined),
    );
    socket.send(bytes, port, host, (err) => {
      if (err)
        finish(new Error(`DNS: cannot send to udp ${formatHostPort(host, port)}: ${err.message}`), undefined);
    });
  });
}

function timeoutError(
  proto: string,
  host: string,
  port: number,
  name: string,
  type: string,
  ms: number,
): Error {
  return new Error(
    `DNS: no ${proto} response from ${formatHostPort(host, port)} for ${name} ${type} within ${ms}ms`,
  );
}
