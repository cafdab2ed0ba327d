import type dgram from 'node:dgram';
import { type AddressInfo, isIPv4, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { type BoundSockets, bindSockets, formatHostPort } from './listen.js';
import { respond } from './respond.js';
import { createFrameReader, frameMessage } from './tcp-frames.js';
import type { QueryHandler, RequestInfo } from './types.js';

/** Options of `createDnsServer`. */
export interface DnsServerOptions {
  /** Address to bind; '' (from ':53') means all interfaces, IPv6 dual-stack when available. */
  host: string;
  /** Port for both UDP and TCP; 0 picks one ephemeral port free on both (tests). */
  port: number;
  /** Policy; called synchronously once per well-formed query. */
  handler: QueryHandler;
  /** Component logger; nothing is logged per query. */
  log: Logger;
  /** Largest UDP response in octets, also advertised in EDNS; values below 512 act as 512. */
  maxUdpSize: number;
  /**
   * Called per packet or connection not answered: 'short' (no readable header), 'response' (QR=1),
   * 'tcp-connection-limit', 'send-failed' (UDP send error), 'internal' (a bug; also logged).
   */
  onDrop?: (reason: string) => void;
  /** Called per answer whose rcode this layer chose: 'FORMERR', 'NOTIMP', or 'SERVFAIL' (handler failure). */
  onError?: (rcode: string) => void;
  /** Close TCP connections idle this long (RFC 7766 §6.2.3). Default 10000. */
  tcpIdleTimeoutMs?: number;
  /** Concurrent TCP connections; excess ones are closed at once. Default 1000. */
  maxTcpConnections?: number;
}

/** A running (or startable) DNS server. */
export interface DnsServer {
  /**
   * Binds UDP and TCP and starts serving.
   * One-shot: a second call, or one after `close()`, rejects.
   * @throws ListenError (rejects) naming protocol, address and cause; nothing stays bound.
   */
  start(): Promise<void>;
  /** Stops accepting, closes the UDP socket, ends open TCP connections; resolves once all are closed. */
  close(): Promise<void>;
  /**
   * Bound addresses.
   * @throws Error before `start()` resolved.
   */
  address(): { udp: AddressInfo; tcp: AddressInfo };
}

const DEFAULT_TCP_IDLE_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_TCP_CONNECTIONS = 1000;
/** Handler failures repeat per query; log the first, then at most one line per interval with a count. */
const FAILURE_LOG_INTERVAL_MS = 10_000;
const IPV4_MAPPED_PREFIX = '::ffff:';

/** Dual-stack sockets report IPv4 peers as IPv4-mapped IPv6 (RFC 4291 §2.5.5.2); policy wants plain IPv4. */
function clientAddress(address: string): string {
  const tail = address.slice(IPV4_MAPPED_PREFIX.length);
  return address.toLowerCase().startsWith(IPV4_MAPPED_PREFIX) && isIPv4(tail) ? tail : address;
}

/** Creates a DNS server answering over UDP and TCP (RFC 1035 §4.2, RFC 7766) through `opts.handler`. */
export function createDnsServer(opts: DnsServerOptions): DnsServer {
  const { handler, log } = opts;
  const idleMs = opts.tcpIdleTimeoutMs ?? DEFAULT_TCP_IDLE_TIMEOUT_MS;
  const maxConnections = opts.maxTcpConnections ?? DEFAULT_MAX_TCP_CONNECTIONS;
  const onDrop = opts.onDrop ?? (() => {});
  const onError = opts.onError ?? (() => {});
  const connections = new Set<Socket>();
  let sockets: BoundSockets | undefined;
  let startPromise: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  let lastFailureLogAt = Number.NEGATIVE_INFINITY;
  let suppressedFailures = 0;

  function logFailure(msg: string, reason: string, err: unknown): void {
    const now = performance.now();
    if (now - lastFailureLogAt < FAILURE_LOG_INTERVAL_MS) {
      suppressedFailures++;
      return;
    }
    log.error({ err, reason, suppressed: suppressedFailures }, msg);
    lastFailureLogAt = now;
    suppressedFailures = 0;
  }

  /** Runs one message through parse/handler/encode; returns the reply, or undefined when dropped. */
  function exchange(packet: Uint8Array, info: RequestInfo): Uint8Array | undefined {
    try {
      const ex = respond(packet, info, handler, opts.maxUdpSize);
      if (ex.kind === 'drop') {
        onDrop(ex.reason);
        return undefined;
      }
      if (ex.error) {
        onError(ex.error.rcode);
        if (ex.error.rcode === 'SERVFAIL') {
          logFailure('DNS query failed, answered SERVFAIL', ex.error.reason, ex.error.cause);
        }
      }
      return ex.bytes;
    } catch (e: unknown) {
      // respond() is total; reaching here is a bug in this module. Keep serving.
      onDrop('internal');
      logFailure('DNS message handling failed, dropped', 'internal error', e);
      return undefined;
    }
  }

  function onUdpMessage(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const info: RequestInfo = {
      transport: 'udp',
      remoteAddress: clientAddress(rinfo.address),
      remotePort: rinfo.port,
    };
    const reply = exchange(msg, info);
    if (reply === undefined) return;
    udp.send(reply, rinfo.port, rinfo.address, (err) => {
      if (err) onDrop('send-failed');
    });
  }

  function onTcpConnection(sock: Socket): void {
    if (closing !== undefined) {
      sock.destroy();
      return;
    }
    if (connections.size >= maxConnections) {
      onDrop('tcp-connection-limit');
      sock.destroy();
      return;
    }
    connections.add(sock);
    sock.on('close', () => connections.delete(sock));
    // ECONNRESET and similar: the peer is gone and 'close' follows, which untracks the socket.
    sock.on('error', () => {});
    sock.setNoDelay(true);
    sock.setTimeout(idleMs, () => sock.destroy());
    const info: RequestInfo = {
      transport: 'tcp',
      remoteAddress: clientAddress(sock.remoteAddress ?? ''),
      remotePort: sock.remotePort ?? 0,
    };
    const reader = createFrameReader();
    sock.on('data', (chunk: Buffer) => {
      for (const frame of reader.push(chunk)) {
        if (!sock.writable) return; // ended by close(); ignore what the peer still sends
        const reply = exchange(frame, info);
        if (reply === undefined) {
          // No readable header, or a response: the stream cannot be trusted any further (RFC 7766 §8).
          sock.destroy();
          return;
        }
        // Backpressure: a client pipelining faster than it reads stops being read until it drains.
        if (!sock.write(frameMessage(reply))) sock.pause();
      }
    });
    sock.on('drain', () => sock.resume());
  }

  async function start(): Promise<void> {
    if (startPromise !== undefined || closing !== undefined) {
      throw new Error('DNS: start() may be called only once, and not after close()');
    }
    startPromise = bindSockets(opts.host, opts.port).then((bound) => {
      sockets = bound;
      bound.udp.on('message', (msg, rinfo) => onUdpMessage(bound.udp, msg, rinfo));
      bound.udp.on('error', (err) => log.error({ err }, 'DNS UDP socket error'));
      bound.tcp.on('connection', onTcpConnection);
      bound.tcp.on('error', (err) => log.error({ err }, 'DNS TCP server error'));
      const { udp, tcp } = address();
      log.info(
        { udp: formatHostPort(udp.address, udp.port), tcp: formatHostPort(tcp.address, tcp.port) },
        'DNS server listening',
      );
    });
    return startPromise;
  }

  async function shutdown(): Promise<void> {
    // A close() racing start() must not leave the sockets start() is about to bind.
    await startPromise?.catch(() => {
      // start() already rejected to its own caller, and a failed start leaves nothing bound.
    });
    const bound = sockets;
    if (bound === undefined) return;
    const udpClosed = new Promise<void>((resolve) => bound.udp.close(() => resolve()));
    // server.close() calls back once every connection has closed.
    const tcpClosed = new Promise<void>((resolve) => bound.tcp.close(() => resolve()));
    const connectionsClosed = [...connections].map((sock) => {
      const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
      // end() flushes queued replies and sends FIN; a peer that never reads is cut off by the idle timeout.
      sock.end(() => sock.destroy());
      return closed;
    });
    await Promise.all([udpClosed, tcpClosed, ...connectionsClosed]);
    log.info({}, 'DNS server closed');
  }

  function close(): Promise<void> {
    closing ??= shutdown();
    return closing;
  }

  function address(): { udp: AddressInfo; tcp: AddressInfo } {
    if (sockets === undefined) throw new Error('DNS: address() called before start() resolved');
    return { udp: sockets.udp.address(), tcp: sockets.tcp.address() as AddressInfo };
  }

  return { start, close, address };
}
