import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { TestContext } from 'node:test';
import { after, describe, it } from 'node:test';
import { checkHttp, formatStatusRanges, hostHeader, sniName, statusInRanges } from './check-http.js';
import type { CheckSpec } from './types.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

function spec(over: Partial<CheckSpec> = {}): CheckSpec {
  return {
    type: 'http',
    intervalMs: 1000,
    timeoutMs: 2000,
    path: '/health',
    expectedStatus: [{ min: 200, max: 299 }],
    failureThreshold: 3,
    successThreshold: 2,
    ...over,
  };
}

/** Listens on `host` port 0 and registers cleanup that also drops connections a test left open. */
async function serve(t: TestContext, server: Server, host = '127.0.0.1'): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

async function httpServer(t: TestContext, handler: Handler, host?: string): Promise<number> {
  return serve(t, createServer(handler), host);
}

/** A port that was just bound and released on 127.0.0.1, so connecting to it is refused. */
async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

const local = (port: number) => ({ address: '127.0.0.1', port });

describe('status ranges and headers', () => {
  it('statusInRanges is inclusive and defaults to 200-299 when empty', () => {
    const ranges = [
      { min: 200, max: 204 },
      { min: 404, max: 404 },
    ];
    const got = [199, 200, 204, 205, 404, 500].map((c) => statusInRanges(c, ranges));
    assert.deepEqual(got, [false, true, true, false, true, false]);
    assert.deepEqual(
      [199, 200, 299, 300].map((c) => statusInRanges(c, [])),
      [false, true, true, false],
    );
  });
  it('formatStatusRanges renders single codes and lists', () => {
    assert.equal(formatStatusRanges([]), '200-299');
    assert.equal(
      formatStatusRanges([
        { min: 200, max: 299 },
        { min: 404, max: 404 },
      ]),
      '200-299,404',
    );
  });
  const hosts: {
    name: string;
    address: string;
    port: number;
    scheme: 'http' | 'https';
    host?: string;
    want: string;
  }[] = [
    { name: 'ipv4 non-default port', address: '10.0.0.1', port: 8080, scheme: 'http', want: '10.0.0.1:8080' },
    { name: 'ipv4 default http port', address: '10.0.0.1', port: 80, scheme: 'http', want: '10.0.0.1' },
    { name: 'port 80 over https', address: '10.0.0.1', port: 80, scheme: 'https', want: '10.0.0.1:80' },
    {
      name: 'ipv6 is bracketed',
      address: '2001:db8::1',
      port: 8443,
      scheme: 'https',
      want: '[2001:db8::1]:8443',
    },
    { name: 'bracketed ipv6 input', address: '[::1]', port: 443, scheme: 'https', want: '[::1]' },
    {
      name: 'explicit host verbatim',
      address: '::1',
      port: 8080,
      scheme: 'http',
      host: 'api.test',
      want: 'api.test',
    },
  ];
  for (const c of hosts) {
    it(`hostHeader: ${c.name}`, () => {
      assert.equal(hostHeader({ address: c.address, port: c.port }, c.scheme, c.host), c.want);
    });
  }
  it('sniName sends names only, never IP literals', () => {
    const got = [undefined, 'api.test', 'api.test:8443', '10.0.0.1', '[::1]', '::1', '10.0.0.1:443'].map(
      sniName,
    );
    assert.deepEqual(got, ['', 'api.test', 'api.test', '', '', '', '']);
  });
});

describe('checkHttp against a local server', () => {
  it('200 is ok, sends GET path and a default Host header', async (t) => {
    let seen: { method?: string | undefined; url?: string | undefined; host?: string | undefined } = {};
    const port = await httpServer(t, (req, res) => {
      seen = { method: req.method, url: req.url, host: req.headers.host };
      res.end('fine');
    });
    const r = await checkHttp(local(port), spec(), 'http');
    assert.equal(r.ok, true, `error: ${r.error}`);
    assert.equal(r.statusCode, 200);
    assert.equal(r.error, undefined);
    assert.ok(r.rttMs > 0 && r.rttMs < 2000, `rttMs ${r.rttMs}`);
    assert.deepEqual(seen, { method: 'GET', url: '/health', host: `127.0.0.1:${port}` });
  });

  it('sends the configured Host header', async (t) => {
    let host: string | undefined;
    const port = await httpServer(t, (req, res) => {
      host = req.headers.host;
      res.end();
    });
    const r = await checkHttp(local(port), spec({ host: 'api.example.test' }), 'http');
    assert.equal(r.ok, true, `error: ${r.error}`);
    assert.equal(host, 'api.example.test');
  });

  it('500 fails with the status and the wanted range in the error', async (t) => {
    const port = await httpServer(t, (_req, res) => {
      res.statusCode = 500;
      res.end('boom');
    });
    const r = await checkHttp(local(port), spec(), 'http');
    assert.deepEqual(
      { ok: r.ok, statusCode: r.statusCode, error: r.error },
      {
        ok: false,
        statusCode: 500,
        error: 'unexpected status 500 (want 200-299)',
      },
    );
  });

  it('custom expected ranges accept and reject accordingly', async (t) => {
    let code = 404;
    const port = await httpServer(t, (_req, res) => {
      res.statusCode = code;
      res.end();
    });
    const ranges = [
      { min: 200, max: 299 },
      { min: 404, max: 404 },
    ];
    const accepted = await checkHttp(local(port), spec({ expectedStatus: ranges }), 'http');
    assert.equal(accepted.ok, true, `404 should be accepted: ${accepted.error}`);
    code = 302;
    const rejected = await checkHttp(local(port), spec({ expectedStatus: ranges }), 'http');
    assert.equal(rejected.error, 'unexpected status 302 (want 200-299,404)');
    code = 503;
    const only503 = await checkHttp(local(port), spec({ expectedStatus: [{ min: 503, max: 503 }] }), 'http');
    assert.equal(only503.ok, true, `503 should be accepted: ${only503.error}`);
  });

  it('a server that never responds times out at timeoutMs', async (t) => {
    const port = await httpServer(t, () => {
      // Never answer: the check's own deadline must end the exchange.
    });
    const r = await checkHttp(local(port), spec({ timeoutMs: 200 }), 'http');
    assert.equal(r.ok, false);
    assert.equal(r.error, 'timeout after 200ms');
    assert.ok(r.rttMs >= 190 && r.rttMs < 1500, `rttMs ${r.rttMs} should be about 200`);
  });

  it('a body that never ends times out even after a 200 status', async (t) => {
    const port = await httpServer(t, (_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const r = await checkHttp(local(port), spec({ timeoutMs: 200 }), 'http');
    assert.deepEqual(
      { ok: r.ok, error: r.error, statusCode: r.statusCode },
      {
        ok: false,
        error: 'timeout after 200ms',
        statusCode: 200,
      },
    );
  });

  it('an endless body is read only up to the cap', async (t) => {
    const chunk = Buffer.alloc(16 * 1024, 0x61);
    const port = await httpServer(t, (_req, res) => {
      res.writeHead(200);
      let open = true;
      res.on('close', () => {
        open = false;
      });
      const pump = (): void => {
        while (open && res.write(chunk)) {
          // Keep writing until the socket buffer is full, then wait for drain.
        }
        if (open) res.once('drain', pump);
      };
      pump();
    });
    const r = await checkHttp(local(port), spec({ timeoutMs: 5000 }), 'http');
    assert.equal(r.ok, true, `error: ${r.error}`);
    assert.ok(
      r.rttMs < 4000,
      `rttMs ${r.rttMs}: the check should stop reading at the cap, not at the timeout`,
    );
  });

  it('connection refused', async () => {
    const r = await checkHttp(local(await closedPort()), spec(), 'http');
    assert.deepEqual({ ok: r.ok, error: r.error }, { ok: false, error: 'connection refused' });
  });

  it('a server that closes without answering', async (t) => {
    const port = await httpServer(t, (req) => req.socket.destroy());
    const r = await checkHttp(local(port), spec(), 'http');
    assert.deepEqual({ ok: r.ok, error: r.error }, { ok: false, error: 'connection closed before response' });
  });

  it('an abort signal ends the check early', async (t) => {
    const port = await httpServer(t, () => {
      // Never answer.
    });
    const controller = new AbortController();
    const started = performance.now();
    const pending = checkHttp(local(port), spec({ timeoutMs: 10_000 }), 'http', {
      signal: controller.signal,
    });
    controller.abort();
    const r = await pending;
    assert.deepEqual({ ok: r.ok, error: r.error }, { ok: false, error: 'aborted' });
    assert.ok(performance.now() - started < 5000, 'abort should not wait for the timeout');
  });

  it('IPv6 loopback with the address bracketed in Host', async (t) => {
    let host: string | undefined;
    let port: number;
    try {
      port = await httpServer(
        t,
        (req, res) => {
          host = req.headers.host;
          res.end();
        },
        '::1',
      );
    } catch (e: unknown) {
      t.skip(`::1 unavailable: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    for (const address of ['::1', '[::1]']) {
      const r = await checkHttp({ address, port }, spec(), 'http');
      assert.equal(r.ok, true, `address ${address}: ${r.error}`);
      assert.equal(host, `[::1]:${port}`);
    }
  });
});

/** A self-signed certificate made by the openssl CLI (node:crypto cannot create X.509 certificates). */
function makeCertificate(): { key: Buffer; cert: Buffer } | string {
  const dir = mkdtempSync(join(tmpdir(), 'health-tls-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  args.push('-keyout', keyPath, '-out', certPath, '-days', '1', '-subj', '/CN=example.test');
  const run = spawnSync('openssl', args, { stdio: 'pipe', timeout: 20_000 });
  if (run.error !== undefined) return `openssl not runnable: ${run.error.message}`;
  if (run.status !== 0) return `openssl exited ${run.status}: ${run.stderr.toString().trim()}`;
  return { key: readFileSync(keyPath), cert: readFileSync(certPath) };
}

describe('checkHttp over https with a self-signed certificate', () => {
  const tls = makeCertificate();

  async function httpsServer(t: TestContext, names: (string | false)[]): Promise<number> {
    if (typeof tls === 'string') throw new Error(tls);
    const server = createHttpsServer({ ...tls }, (req, res) => {
      names.push((req.socket as { servername?: string | false }).servername ?? false);
      res.end('ok');
    });
    return serve(t, server);
  }

  it('accepts the unverified certificate and sends no SNI for an IP', async (t) => {
    if (typeof tls === 'string') {
      t.skip(tls);
      return;
    }
    const names: (string | false)[] = [];
    const port = await httpsServer(t, names);
    const r = await checkHttp(local(port), spec({ type: 'https' }), 'https');
    assert.equal(r.ok, true, `error: ${r.error}`);
    assert.equal(r.statusCode, 200);
    assert.deepEqual(names, [false], 'no SNI expected for an IP-addressed check');
  });

  it('sends the configured host as SNI', async (t) => {
    if (typeof tls === 'string') {
      t.skip(tls);
      return;
    }
    const names: (string | false)[] = [];
    const port = await httpsServer(t, names);
    const r = await checkHttp(local(port), spec({ type: 'https', host: 'example.test' }), 'https');
    assert.equal(r.ok, true, `error: ${r.error}`);
    assert.deepEqual(names, ['example.test']);
  });

  it('https against a plain http server fails with a tls error', async (t) => {
    const port = await httpServer(t, (_req, res) => res.end());
    const r = await checkHttp(local(port), spec({ type: 'https' }), 'https');
    assert.equal(r.ok, false);
    assert.equal(r.error, 'tls error: wrong version number');
  });
});
