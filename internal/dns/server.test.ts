import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { queryTcp, queryUdp, sendRawTcp, sendRawUdp } from './client.js';
import { createDnsServer, type DnsServerOptions } from './server.js';
import { frameMessage } from './tcp-frames.js';
import type { Answer, Query, ResourceRecord } from './types.js';
import { encodeQuery } from './wire.js';

const HOST = '127.0.0.1';
const TIMEOUT_MS = 2000;
/** How long to wait for a reply that must not come. */
const SILENCE_MS = 300;

const soa: ResourceRecord = {
  name: 'example.com',
  type: 'SOA',
  ttl: 60,
  data: { mname: 'ns1.example.com', rname: 'hostmaster.example.com', serial: 1 },
};

function handler(q: Query): Answer {
  switch (q.question.name) {
    case 'app.example.com':
      return {
        rcode: 'NOERROR',
        authoritative: true,
        answers: [{ name: q.question.name, type: 'A', ttl: 30, data: '192.0.2.1' }],
      };
    case 'big.example.com':
      return {
        rcode: 'NOERROR',
        authoritative: true,
        answers: Array.from({ length: 60 }, (_, i) => ({
          name: q.question.name,
          type: 'A' as const,
          ttl: 30,
          data: `192.0.2.${i}`,
        })),
      };
    case 'boom.example.com':
      throw new Error('policy exploded');
    default:
      return { rcode: 'NXDOMAIN', authoritative: true, answers: [], authorities: [soa] };
  }
}

/** Starts a server on loopback port 0 that the test closes on exit; records logs, drops and errors. */
async function startServer(t: TestContext, overrides: Partial<DnsServerOptions> = {}) {
  const logs: Array<{ level: number; msg: string; err?: { message: string } }> = [];
  const drops: string[] = [];
  const errors: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const server = createDnsServer({
    host: HOST,
    port: 0,
    handler,
    log,
    maxUdpSize: 1232,
    onDrop: (r) => drops.push(r),
    onError: (r) => errors.push(r),
    ...overrides,
  });
  await server.start();
  t.after(() => server.close());
  return { server, port: server.address().udp.port, logs, drops, errors };
}

const rcodeOf = (msg: Buffer): number => msg.readUInt16BE(2) & 0xf;
const frame = (id: number, name = 'app.example.com'): Buffer =>
  frameMessage(encodeQuery({ id, name, type: 'A' }));

describe('createDnsServer', { timeout: 20_000 }, () => {
  it('answers over UDP and TCP on the same port', async (t) => {
    const { server, port } = await startServer(t);
    assert.equal(server.address().tcp.port, port);
    for (const query of [queryUdp, queryTcp]) {
      const r = await query(HOST, port, 'App.Example.com', 'A', { id: 42, timeoutMs: TIMEOUT_MS });
      assert.deepEqual(
        [
          r.id,
          r.flag_aa,
          r.flag_rd,
          r.questions?.[0]?.name,
          r.answers?.map((a) => ('data' in a ? a.data : a)),
        ],
        [42, true, true, 'App.Example.com', ['192.0.2.1']],
        query.name,
      );
    }
  });

  it('reports IPv4 clients of an IPv6 socket as plain IPv4', async (t) => {
    const seen: string[] = [];
    const { port } = await startServer(t, {
      host: '::ffff:127.0.0.1',
      handler: (q, info) => {
        seen.push(`${info.transport} ${info.remoteAddress}`);
        return handler(q);
      },
    });
    await queryUdp(HOST, port, 'app.example.com', 'A', { timeoutMs: TIMEOUT_MS });
    await queryTcp(HOST, port, 'app.example.com', 'A', { timeoutMs: TIMEOUT_MS });
    assert.deepEqual(seen, ['udp 127.0.0.1', 'tcp 127.0.0.1']);
  });

  it('answers three TCP queries pipelined in one write, in order', async (t) => {
    const { port } = await startServer(t);
    const got = await sendRawTcp(
      HOST,
      port,
      [Buffer.concat([frame(1), frame(2, 'nx.example.com'), frame(3)])],
      3,
      TIMEOUT_MS,
    );
    assert.deepEqual(
      got.frames.map((f) => [f.readUInt16BE(0), rcodeOf(f)]),
      [
        [1, 0],
        [2, 3],
        [3, 0],
      ],
    );
  });

  it('answers a TCP query split across two writes', async (t) => {
    const { port } = await startServer(t);
    const whole = frame(9);
    const got = await sendRawTcp(HOST, port, [whole.subarray(0, 7), whole.subarray(7)], 1, TIMEOUT_MS);
    assert.deepEqual(
      got.frames.map((f) => f.readUInt16BE(0)),
      [9],
    );
  });

  it('answers a malformed UDP query with FORMERR and the same ID', async (t) => {
    const { port, errors } = await startServer(t);
    const truncated = Buffer.from(encodeQuery({ id: 0xbeef, name: 'app.example.com', type: 'A' })).subarray(
      0,
      16,
    );
    const reply = await sendRawUdp(HOST, port, truncated, TIMEOUT_MS);
    assert.ok(reply, 'no reply');
    assert.deepEqual([reply.readUInt16BE(0), rcodeOf(reply), errors], [0xbeef, 1, ['FORMERR']]);
  });

  it('never answers a response (QR=1) or a short packet', async (t) => {
    const { port, drops } = await startServer(t);
    const response = Buffer.from(encodeQuery({ id: 5, name: 'app.example.com', type: 'A' }));
    response[2] = (response[2] ?? 0) | 0x80;
    assert.equal(await sendRawUdp(HOST, port, response, SILENCE_MS), undefined);
    assert.equal(await sendRawUdp(HOST, port, Buffer.from([1, 2, 3]), SILENCE_MS), undefined);
    assert.deepEqual(drops, ['response', 'short']);
  });

  it('answers SERVFAIL when the handler throws, logs once, and keeps serving', async (t) => {
    const { port, logs, errors } = await startServer(t);
    for (const id of [1, 2]) {
      const r = await queryUdp(HOST, port, 'boom.example.com', 'A', { id, timeoutMs: TIMEOUT_MS });
      assert.equal((r.flags ?? 0) & 0xf, 2, `query ${id}: rcode`);
    }
    const ok = await queryTcp(HOST, port, 'app.example.com', 'A', { timeoutMs: TIMEOUT_MS });
    assert.equal(ok.answers?.length, 1);
    const errorLogs = logs.filter((l) => l.level >= 50);
    assert.deepEqual(
      errorLogs.map((l) => [l.msg, l.err?.message]),
      [['DNS query failed, answered SERVFAIL', 'policy exploded']],
    );
    assert.deepEqual(errors, ['SERVFAIL', 'SERVFAIL']);
  });

  it('truncates a large answer over UDP and sends it whole over TCP', async (t) => {
    const { port } = await startServer(t);
    const overUdp = await queryUdp(HOST, port, 'big.example.com', 'A', { timeoutMs: TIMEOUT_MS });
    const overTcp = await queryTcp(HOST, port, 'big.example.com', 'A', { timeoutMs: TIMEOUT_MS });
    assert.deepEqual([overUdp.flag_tc, overUdp.answers?.length], [true, 0]);
    assert.deepEqual([overTcp.flag_tc, overTcp.answers?.length], [false, 60]);
  });

  it('fits a large answer over UDP up to the EDNS size and advertises maxUdpSize', async (t) => {
    const { port } = await startServer(t);
    const r = await queryUdp(HOST, port, 'big.example.com', 'A', {
      edns: { udpSize: 4096 },
      timeoutMs: TIMEOUT_MS,
    });
    const opt = r.additionals?.find((a) => a.type === 'OPT');
    assert.deepEqual(
      [r.flag_tc, r.answers?.length, opt && 'udpPayloadSize' in opt && opt.udpPayloadSize],
      [false, 60, 1232],
    );
  });

  it('closes a TCP connection on a length-0 frame', async (t) => {
    const { port, drops } = await startServer(t);
    const got = await sendRawTcp(HOST, port, [Buffer.from([0, 0]), frame(1)], 1, TIMEOUT_MS);
    assert.deepEqual([got.frames.length, got.closed, drops], [0, true, ['short']]);
  });

  it('answers FORMERR to a garbage TCP frame with a readable header and keeps the connection', async (t) => {
    const { port } = await startServer(t);
    const garbage = frameMessage(Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff]));
    const got = await sendRawTcp(HOST, port, [Buffer.concat([garbage, frame(2)])], 2, TIMEOUT_MS);
    assert.deepEqual(
      got.frames.map((f) => [f.readUInt16BE(0), rcodeOf(f)]),
      [
        [0xabcd, 1],
        [2, 0],
      ],
    );
  });

  it('closes idle TCP connections', async (t) => {
    const { port } = await startServer(t, { tcpIdleTimeoutMs: 100 });
    const got = await sendRawTcp(HOST, port, [], 1, TIMEOUT_MS);
    assert.deepEqual([got.frames.length, got.closed], [0, true]);
  });

  it('closes connections beyond maxTcpConnections at once', async (t) => {
    const { port, drops } = await startServer(t, { maxTcpConnections: 1 });
    const first = net.connect({ host: HOST, port });
    t.after(() => closeSocket(first));
    // The first connection is registered once it has been answered.
    await new Promise<void>((resolve) => {
      first.once('data', () => resolve());
      first.write(frame(1));
    });
    const second = await sendRawTcp(HOST, port, [frame(2)], 1, TIMEOUT_MS);
    assert.deepEqual([second.frames.length, second.closed, drops], [0, true, ['tcp-connection-limit']]);
  });

  it('rejects start() when the port is taken, binding nothing', async (t) => {
    const holder = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind(0, HOST, () => resolve()));
    t.after(() => new Promise<void>((r) => holder.close(() => r())));
    const port = holder.address().port;
    const server = createDnsServer({
      host: HOST,
      port,
      handler,
      log: pino({ level: 'silent' }),
      maxUdpSize: 1232,
    });
    await assert.rejects(server.start(), {
      message: `DNS: cannot listen on udp ${HOST}:${port}: address already in use (EADDRINUSE)`,
    });
    assert.throws(() => server.address(), /before start\(\) resolved/);
    await server.close();
  });

  it('close() ends open connections and releases every socket', async (t) => {
    const { server, port } = await startServer(t);
    const client = net.connect({ host: HOST, port });
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => {}); // a reset instead of FIN is fine; 'close' is what the test awaits
    await new Promise<void>((resolve) => {
      client.once('data', () => resolve());
      client.write(frame(1));
    });
    await server.close();
    await clientClosed;
    // 'close' events precede libuv's handle release by a loop turn, so poll for it. Earlier tests in this file
    // released theirs too, so no socket handle may remain: a leak here would keep the process alive.
    await waitFor(
      () => Object.values(countSockets()).every((n) => n === 0),
      2000,
      () => JSON.stringify(countSockets()),
    );
    await server.close(); // idempotent
  });
});

/** Resolves once `cond()` holds, checking every event-loop turn; fails after `deadlineMs` with `show()`. */
async function waitFor(cond: () => boolean, deadlineMs: number, show: () => string): Promise<void> {
  const deadline = performance.now() + deadlineMs;
  while (!cond()) {
    if (performance.now() > deadline) assert.fail(`condition not met within ${deadlineMs}ms: ${show()}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Destroys a client socket and resolves once its handle is closed (it may have closed already). */
function closeSocket(sock: net.Socket): Promise<void> {
  if (sock.closed) return Promise.resolve();
  return new Promise((resolve) => sock.once('close', () => resolve()).destroy());
}

// Socket handles alive in this process (by libuv type); leaked ones would keep the process from exiting.
function countSockets(): Record<string, number> {
  const counts: Record<string, number> = { UDPWrap: 0, TCPServerWrap: 0, TCPSocketWrap: 0 };
  for (const r of process.getActiveResourcesInfo()) if (r in counts) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}
