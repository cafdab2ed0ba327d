import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { checkTcp } from './check-tcp.js';
import type { CheckSpec } from './types.js';

function spec(timeoutMs = 2000): CheckSpec {
  return {
    type: 'tcp',
    intervalMs: 1000,
    timeoutMs,
    path: '',
    expectedStatus: [],
    failureThreshold: 3,
    successThreshold: 2,
  };
}

async function listen(t: TestContext, server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

describe('checkTcp', () => {
  it('succeeds on connect and closes the connection', async (t) => {
    const server = createServer();
    const closed = new Promise<void>((resolve) => {
      server.on('connection', (s: Socket) => {
        s.resume();
        s.on('close', () => resolve());
      });
    });
    const port = await listen(t, server);
    const r = await checkTcp({ address: '127.0.0.1', port }, spec());
    assert.equal(r.ok, true, `error: ${r.error}`);
    assert.equal(r.error, undefined);
    assert.ok(r.rttMs >= 0 && r.rttMs < 2000, `rttMs ${r.rttMs}`);
    await closed;
  });

  it('connection refused', async () => {
    const s = createServer();
    s.listen(0, '127.0.0.1');
    await once(s, 'listening');
    const { port } = s.address() as AddressInfo;
    s.close();
    await once(s, 'close');
    const r = await checkTcp({ address: '127.0.0.1', port }, spec());
    assert.deepEqual({ ok: r.ok, error: r.error }, { ok: false, error: 'connection refused' });
  });

  it('an already aborted signal fails without connecting', async (t) => {
    // The server accepts, so only the abort can make this check fail.
    const port = await listen(
      t,
      createServer((s) => s.destroy()),
    );
    const r = await checkTcp({ address: '127.0.0.1', port }, spec(), { signal: AbortSignal.abort() });
    assert.deepEqual({ ok: r.ok, error: r.error }, { ok: false, error: 'aborted' });
  });

  it('IPv6 loopback, bracketed or not', async (t) => {
    const server = createServer((s) => s.destroy());
    let port: number;
    try {
      port = await listen(t, server, '::1');
    } catch (e: unknown) {
      t.skip(`::1 unavailable: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    for (const address of ['::1', '[::1]']) {
      const r = await checkTcp({ address, port }, spec());
      assert.equal(r.ok, true, `address ${address}: ${r.error}`);
    }
  });
});
