import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { formatHostPort, listenOrFail } from './listen.js';

describe('formatHostPort', () => {
  const cases = [
    { host: '127.0.0.1', port: 8080, want: '127.0.0.1:8080' },
    { host: '::1', port: 8080, want: '[::1]:8080' },
    { host: '', port: 8080, want: ':8080' },
    { host: 'localhost', port: 0, want: 'localhost:0' },
  ];
  for (const c of cases) {
    it(c.want, () => assert.equal(formatHostPort(c.host, c.port), c.want));
  }
});

describe('listenOrFail', () => {
  it('wraps a synchronous argument error and leaves the server reusable', async (t) => {
    const server = createServer();
    t.after(() => server.close());
    await assert.rejects(listenOrFail(server, '127.0.0.1', 70_000), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /^API: cannot listen on 127\.0\.0\.1:70000: .*70000/);
      assert.ok(e.cause instanceof RangeError, 'cause keeps the original error');
      return true;
    });
    assert.equal(server.listenerCount('error'), 0, 'no stale error listener');
    assert.equal(server.listenerCount('listening'), 0, 'no stale listening listener');
    await listenOrFail(server, '127.0.0.1', 0);
    assert.equal(server.listening, true);
  });

  it('names the address and errno when the port is taken', async (t) => {
    const first = createServer();
    const second = createServer();
    t.after(() => {
      first.close();
      second.close();
    });
    await listenOrFail(first, '127.0.0.1', 0);
    const address = first.address();
    assert.ok(address !== null && typeof address === 'object');
    await assert.rejects(listenOrFail(second, '127.0.0.1', address.port), {
      message: `API: cannot listen on 127.0.0.1:${address.port}: address already in use (EADDRINUSE)`,
    });
  });
});
