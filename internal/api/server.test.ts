import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import { ApiHttpError } from './api-error.js';
import type { Route } from './router.js';
import type { ApiServerOptions } from './server.js';
import { API_MAX_BODY_BYTES, createApiServer, UNMATCHED_ROUTE } from './server.js';

interface LogLine {
  level: number;
  msg: string;
  err?: { message: string };
  [key: string]: unknown;
}

interface Harness {
  base: string;
  port: number;
  logs: LogLine[];
  requests: [string, number][];
  close(): Promise<void>;
}

const echo: Route['handler'] = (req) => ({
  status: 200,
  body: {
    params: req.params,
    query: Object.fromEntries(req.query),
    body: req.body ?? null,
    remote: req.remoteAddress,
  },
});

async function startApi(
  t: TestContext,
  routes: Route[],
  extra: Partial<ApiServerOptions> = {},
): Promise<Harness> {
  const logs: LogLine[] = [];
  const requests: [string, number][] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as LogLine) });
  const api = createApiServer({
    host: '127.0.0.1',
    port: 0,
    log,
    allow: () => true,
    routes,
    onRequest: (route, status) => requests.push([route, status]),
    ...extra,
  });
  await api.start();
  t.after(() => api.close());
  const { port } = api.address();
  return { base: `http://127.0.0.1:${port}`, port, logs, requests, close: () => api.close() };
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** node:http client, for what fetch hides: chunked uploads, Connection headers, socket reuse. */
function rawRequest(
  url: string,
  opts: { method: string; headers?: Record<string, string>; chunks?: Buffer[]; agent?: Agent },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: opts.method, headers: opts.headers ?? {}, agent: opts.agent ?? false },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(parts).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    for (const chunk of opts.chunks ?? []) req.write(chunk);
    req.end();
  });
}

/** Rejects when `p` has not settled within `ms`; the timer never outlives the race. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const overrideRoutes: Route[] = [
  { method: 'GET', path: '/api/v1/overrides', handler: echo },
  { method: 'PUT', path: '/api/v1/overrides/:service/:target', handler: echo },
  { method: 'POST', path: '/api/v1/overrides/:service/:target', handler: echo },
  { method: 'DELETE', path: '/api/v1/overrides/:service/:target', handler: echo },
];

describe('createApiServer routing', () => {
  it('passes decoded params, query and body; answers compact JSON with a newline', async (t) => {
    const h = await startApi(t, overrideRoutes);
    const res = await fetch(`${h.base}/api/v1/overrides/app.example.com/10.0.0.1:80?reason=maint&by=ops`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ weight: 0 }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(
      await res.text(),
      '{"params":{"service":"app.example.com","target":"10.0.0.1:80"},"query":{"reason":"maint","by":"ops"},' +
        '"body":{"weight":0},"remote":"127.0.0.1"}\n',
    );
    assert.deepEqual(h.requests, [['/api/v1/overrides/:service/:target', 200]]);
  });

  for (const target of ['[2001:db8::1]:80', encodeURIComponent('[2001:db8::1]:80')]) {
    it(`decodes an IPv6 target written as ${target}`, async (t) => {
      const h = await startApi(t, overrideRoutes);
      const res = await fetch(`${h.base}/api/v1/overrides/svc/${target}`, { method: 'DELETE' });
      assert.equal(res.status, 200);
      const got = (await res.json()) as { params: unknown; body: unknown };
      assert.deepEqual(got.params, { service: 'svc', target: '[2001:db8::1]:80' });
      assert.equal(got.body, null);
    });
  }

  it('answers 404 for an unknown path', async (t) => {
    const h = await startApi(t, overrideRoutes);
    const res = await fetch(`${h.base}/api/v1/nope`);
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), {
      error: { code: 'not_found', message: 'no route matches path "/api/v1/nope"' },
    });
    assert.deepEqual(h.requests, [[UNMATCHED_ROUTE, 404]]);
  });

  it('answers 405 with Allow for a known path and another method', async (t) => {
    const h = await startApi(t, overrideRoutes);
    const res = await fetch(`${h.base}/api/v1/overrides/svc/t`, { method: 'PATCH' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'PUT, POST, DELETE');
    assert.deepEqual(await res.json(), {
      error: {
        code: 'method_not_allowed',
        message: 'method PATCH is not allowed on /api/v1/overrides/:service/:target; use PUT, POST, DELETE',
      },
    });
    assert.deepEqual(h.requests, [['/api/v1/overrides/:service/:target', 405]]);
  });

  it('answers 400 for a parameter holding an encoded slash', async (t) => {
    const h = await startApi(t, overrideRoutes);
    const res = await fetch(`${h.base}/api/v1/overrides/svc/a%2Fb`, { method: 'DELETE' });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid_path');
  });

  it('answers 403 before routing when allow() refuses the peer', async (t) => {
    const seen: string[] = [];
    let called = false;
    const routes: Route[] = [
      {
        method: 'GET',
        path: '/x',
        handler: () => {
          called = true;
          return { status: 200, body: {} };
        },
      },
    ];
    const h = await startApi(t, routes, {
      allow: (a) => {
        seen.push(a);
        return false;
      },
    });
    for (const path of ['/x', '/missing']) {
      const res = await fetch(`${h.base}${path}`);
      assert.equal(res.status, 403, path);
      assert.deepEqual(await res.json(), {
        error: { code: 'forbidden', message: 'client 127.0.0.1 is not in api.allowed_networks' },
      });
    }
    assert.equal(called, false, 'handler must not run for a refused client');
    assert.deepEqual(seen, ['127.0.0.1', '127.0.0.1']);
    assert.equal(h.logs.filter((l) => l.level === 40 && l['client'] === '127.0.0.1').length, 2);
  });

  it('answers 204 without a body or Content-Length', async (t) => {
    const h = await startApi(t, [
      { method: 'DELETE', path: '/x', handler: () => ({ status: 204, body: { x: 1 } }) },
    ]);
    const res = await rawRequest(`${h.base}/x`, { method: 'DELETE' });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal(res.headers['content-length'], undefined);
    assert.equal(res.headers['content-type'], undefined);
  });
});

describe('createApiServer request bodies', () => {
  const cases = [
    {
      name: 'non-JSON content type',
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
      status: 415,
      error: {
        code: 'unsupported_media_type',
        message: 'request body must be application/json, got content-type "text/plain"',
      },
    },
    {
      name: 'invalid JSON',
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"weight":0,}',
      status: 400,
      error: {
        code: 'invalid_json',
        message: 'request body is not valid JSON: unexpected character "}" at position 12',
      },
    },
    {
      name: 'JSON array',
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '[1]',
      status: 400,
      error: { code: 'invalid_body', message: 'request body must be a JSON object, got an array' },
    },
    {
      name: 'JSON string',
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '"x"',
      status: 400,
      error: { code: 'invalid_body', message: 'request body must be a JSON object, got a string' },
    },
    {
      name: 'body on DELETE',
      method: 'DELETE',
      headers: { 'content-type': 'application/json' },
      body: '{}',
      status: 400,
      error: { code: 'unexpected_body', message: 'DELETE requests take no body' },
    },
    {
      name: 'declared length over the limit',
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: `"${'x'.repeat(API_MAX_BODY_BYTES - 1)}"`,
      status: 413,
      error: { code: 'payload_too_large', message: `request body exceeds ${API_MAX_BODY_BYTES} bytes` },
    },
  ];
  for (const c of cases) {
    it(c.name, async (t) => {
      const h = await startApi(t, overrideRoutes);
      const res = await fetch(`${h.base}/api/v1/overrides/svc/t`, {
        method: c.method,
        headers: c.headers,
        body: c.body,
      });
      assert.equal(res.status, c.status);
      assert.deepEqual(await res.json(), { error: c.error });
    });
  }

  it('accepts a body of exactly the limit', async (t) => {
    const h = await startApi(t, overrideRoutes);
    const filler = 'x'.repeat(API_MAX_BODY_BYTES - '{"f":""}'.length);
    const res = await fetch(`${h.base}/api/v1/overrides/svc/t`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"f":"${filler}"}`,
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { body: { f: string } }).body.f.length, filler.length);
  });

  it('answers 413 to a chunked body that outgrows the limit, and the connection stays usable', async (t) => {
    const h = await startApi(t, overrideRoutes);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const chunks = Array.from({ length: 5 }, () => Buffer.alloc(API_MAX_BODY_BYTES / 4, 0x20));
    const res = await rawRequest(`${h.base}/api/v1/overrides/svc/t`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      chunks,
      agent,
    });
    assert.equal(res.status, 413);
    assert.equal(res.headers['transfer-encoding'], undefined, 'fixture must not send chunked responses');
    const next = await rawRequest(`${h.base}/api/v1/overrides`, { method: 'GET', agent });
    assert.equal(next.status, 200);
  });

  it('passes an empty PUT body as undefined', async (t) => {
    const h = await startApi(t, overrideRoutes);
    const res = await fetch(`${h.base}/api/v1/overrides/svc/t`, { method: 'PUT' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { body: unknown }).body, null);
  });
});

describe('createApiServer handler failures', () => {
  it('hides a thrown error behind 500, logs it, and keeps serving', async (t) => {
    const routes: Route[] = [
      {
        method: 'GET',
        path: '/boom',
        handler: () => {
          throw new Error('secret detail');
        },
      },
      { method: 'GET', path: '/ok', handler: () => ({ status: 200, body: { ok: true } }) },
    ];
    const h = await startApi(t, routes);
    const res = await fetch(`${h.base}/boom`);
    assert.equal(res.status, 500);
    assert.equal(await res.text(), '{"error":{"code":"internal","message":"internal error"}}\n');
    const errors = h.logs.filter((l) => l.level === 50);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.err?.message, 'secret detail');
    assert.equal(errors[0]?.['route'], '/boom');
    const again = await fetch(`${h.base}/ok`);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { ok: true });
  });

  it('turns a rejected promise into 500 as well', async (t) => {
    const h = await startApi(t, [
      { method: 'GET', path: '/x', handler: () => Promise.reject(new Error('nope')) },
    ]);
    assert.equal((await fetch(`${h.base}/x`)).status, 500);
  });

  it('answers an ApiHttpError with its status, code, message and headers', async (t) => {
    const handler = (): never => {
      throw new ApiHttpError(409, 'conflict', 'override exists', { headers: { 'retry-after': '3' } });
    };
    const h = await startApi(t, [{ method: 'POST', path: '/x', handler }]);
    const res = await fetch(`${h.base}/x`, { method: 'POST' });
    assert.equal(res.status, 409);
    assert.equal(res.headers.get('retry-after'), '3');
    assert.deepEqual(await res.json(), { error: { code: 'conflict', message: 'override exists' } });
    assert.equal(
      h.logs.some((l) => l.level >= 50),
      false,
      'an ApiHttpError is not a server error',
    );
  });

  const unsendable = [
    { name: 'status out of range', response: { status: 42, body: {} } },
    { name: 'bad header value', response: { status: 200, body: {}, headers: { 'x-a': 'line\nbreak' } } },
    { name: 'BigInt body', response: { status: 200, body: { n: 1n } } },
  ];
  for (const c of unsendable) {
    it(`answers 500 for an unsendable response: ${c.name}`, async (t) => {
      const h = await startApi(t, [{ method: 'GET', path: '/x', handler: () => c.response }]);
      const res = await fetch(`${h.base}/x`);
      assert.equal(res.status, 500);
      assert.equal(res.headers.get('x-a'), null);
      assert.deepEqual(await res.json(), { error: { code: 'internal', message: 'internal error' } });
      assert.deepEqual(h.requests, [['/x', 500]]);
    });
  }
});

describe('createApiServer lifecycle', () => {
  it('rejects start() with a clear message when the port is taken', async (t) => {
    const first = await startApi(t, overrideRoutes);
    const log = pino({ level: 'silent' });
    const second = createApiServer({
      host: '127.0.0.1',
      port: first.port,
      log,
      allow: () => true,
      routes: [],
    });
    t.after(() => second.close());
    await assert.rejects(second.start(), {
      message: `API: cannot listen on 127.0.0.1:${first.port}: address already in use (EADDRINUSE)`,
    });
  });

  it('close() ends an idle keep-alive connection promptly', async (t) => {
    const h = await startApi(t, overrideRoutes);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const socketClosed = deferred();
    agent.once('free', (socket) => socket.once('close', () => socketClosed.resolve()));
    const res = await rawRequest(`${h.base}/api/v1/overrides`, { method: 'GET', agent });
    assert.equal(res.status, 200);
    assert.notEqual(res.headers.connection, 'close', 'fixture must leave the connection open');
    // keepAliveTimeout (5 s) and shutdownTimeoutMs (5 s) are both far above this deadline.
    await within(h.close(), 1_000, 'close() with an idle keep-alive connection');
    await within(socketClosed.promise, 1_000, 'client socket close');
  });

  it('close() lets an in-flight request finish and tells it to close the connection', async (t) => {
    const entered = deferred();
    const release = deferred();
    const routes: Route[] = [
      {
        method: 'GET',
        path: '/slow',
        handler: async () => {
          entered.resolve();
          await release.promise;
          return { status: 200, body: { done: true } };
        },
      },
    ];
    const h = await startApi(t, routes);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => agent.destroy());
    const pending = rawRequest(`${h.base}/slow`, { method: 'GET', agent });
    await within(entered.promise, 2_000, 'handler entry');
    const closed = h.close();
    release.resolve();
    const res = await within(pending, 2_000, 'in-flight request');
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.text, '{"done":true}\n');
    await within(closed, 2_000, 'close() after the in-flight request');
  });

  it('close() destroys requests still running after shutdownTimeoutMs', async (t) => {
    const entered = deferred();
    const never = new Promise<never>(() => {});
    const routes: Route[] = [
      {
        method: 'GET',
        path: '/stuck',
        handler: () => {
          entered.resolve();
          return never;
        },
      },
    ];
    const h = await startApi(t, routes, { shutdownTimeoutMs: 50 });
    const pending = rawRequest(`${h.base}/stuck`, { method: 'GET' });
    await within(entered.promise, 2_000, 'handler entry');
    await within(h.close(), 2_000, 'close() with a stuck request');
    await assert.rejects(pending, { code: 'ECONNRESET' });
    assert.ok(h.logs.some((l) => l.msg === 'API shutdown timed out; destroying open connections'));
  });

  it('close() before start() and twice is harmless', async () => {
    const log = pino({ level: 'silent' });
    const api = createApiServer({ host: '127.0.0.1', port: 0, log, allow: () => true, routes: [] });
    await api.close();
    await api.close();
    assert.throws(() => api.address(), { message: 'API: address() called while not listening' });
  });
});
