import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type FaultProxy, socketOwner, startFaultProxy } from './fault-proxy.js';
import { waitFor } from './wait.js';

/** An echo server on loopback. */
async function echoServer(): Promise<{ server: Server; address: string }> {
  const server = createServer((s) => {
    s.on('error', () => s.destroy()); // a reset from the proxy is expected here
    s.pipe(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, address: `127.0.0.1:${(server.address() as { port: number }).port}` };
}

interface Client {
  sock: Socket;
  received(): string;
  error(): string;
  closed(): boolean;
}

async function dial(port: number): Promise<Client> {
  const sock = connect(port, '127.0.0.1');
  let data = '';
  let err = '';
  let closed = false;
  sock.on('data', (d: Buffer) => {
    data += d.toString();
  });
  sock.on('error', (e: NodeJS.ErrnoException) => {
    err = e.code ?? String(e);
  });
  sock.on('close', () => {
    closed = true;
  });
  await once(sock, 'connect');
  return { sock, received: () => data, error: () => err, closed: () => closed };
}

const echoed = (c: Client, text: string) =>
  waitFor(`echo of ${text}`, () => (c.received().includes(text) ? true : undefined), 2000, 5);

describe('fault proxy', () => {
  let echo: { server: Server; address: string };
  const open: Client[] = [];
  const proxies: FaultProxy[] = [];

  before(async () => {
    echo = await echoServer();
  });
  after(async () => {
    for (const c of open) c.sock.destroy();
    await Promise.all(proxies.map((p) => p.close()));
    echo.server.close();
  });

  async function proxy(identify = false): Promise<FaultProxy> {
    const p = await startFaultProxy({
      target: echo.address,
      ...(identify
        ? {
            identify: async (remote: number, local: number) =>
              (await socketOwner(remote, local, [process.pid])) === process.pid ? 'me' : undefined,
          }
        : {}),
    });
    proxies.push(p);
    return p;
  }
  async function client(p: FaultProxy): Promise<Client> {
    const c = await dial(p.port);
    open.push(c);
    return c;
  }

  it('forwards both ways, blackholes on cut (bytes dropped, connection kept), and heal drops stalled ones', async () => {
    const p = await proxy();
    const c = await client(p);
    c.sock.write('one');
    await echoed(c, 'one');
    p.cut();
    c.sock.write('two');
    await waitFor('bytes dropped', () => (p.stats().droppedBytes >= 3 ? true : undefined), 2000, 5);
    assert.equal(c.received(), 'one', 'nothing passes a cut');
    assert.equal(c.closed(), false, 'a blackholed connection stays open, as with lost packets');
    // A connection opened during the cut is accepted but stalls too.
    const late = await client(p);
    late.sock.write('three');
    await waitFor('late bytes dropped', () => (p.stats().droppedBytes >= 8 ? true : undefined), 2000, 5);
    assert.equal(late.received(), '');
    assert.equal(p.stats().stalled, 2);
    p.heal();
    await waitFor(
      'stalled connections closed by heal',
      () => (c.closed() && late.closed() ? true : undefined),
      2000,
      5,
    );
    const fresh = await client(p);
    fresh.sock.write('four');
    await echoed(fresh, 'four');
    assert.equal(p.stats().stalled, 0);
  });

  it('resets connections in reset mode', async () => {
    const p = await proxy();
    const c = await client(p);
    p.cut({ mode: 'reset' });
    await waitFor('reset', () => (c.closed() ? true : undefined), 2000, 5);
    assert.equal(c.error(), 'ECONNRESET');
    // The proxy resets a new connection once it sees it: during the handshake or just after.
    const code = await dial(p.port).then(
      async (next) => {
        open.push(next);
        await waitFor('new connection reset', () => (next.closed() ? true : undefined), 2000, 5);
        return next.error();
      },
      (e: unknown) => (e as NodeJS.ErrnoException).code,
    );
    assert.equal(code, 'ECONNRESET');
    p.heal();
    const fresh = await client(p);
    fresh.sock.write('x');
    await echoed(fresh, 'x');
  });

  it('cuts only the connections of a named owner (found through /proc)', async (t) => {
    if (process.platform !== 'linux') {
      t.skip('socketOwner reads /proc (Linux only)');
      return;
    }
    const p = await proxy(true);
    const mine = await client(p);
    mine.sock.write('a');
    await echoed(mine, 'a');
    p.cut({ from: ['someone-else'] });
    mine.sock.write('b');
    await echoed(mine, 'b');
    p.cut({ from: ['me'] });
    mine.sock.write('c');
    await waitFor('bytes dropped', () => (p.stats().droppedBytes >= 1 ? true : undefined), 2000, 5);
    assert.equal(mine.received(), 'ab');
    p.heal();
  });

  it('delays forwarded chunks in order', async () => {
    const p = await proxy();
    const c = await client(p);
    p.delay(100);
    const t0 = performance.now();
    c.sock.write('d1');
    c.sock.write('d2');
    await echoed(c, 'd1d2');
    // 100 ms each way; timers never fire early.
    assert.ok(performance.now() - t0 >= 195, `round trip ${performance.now() - t0} ms`);
    p.delay(0);
  });
});
