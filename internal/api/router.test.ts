import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Route } from './router.js';
import { createRouter } from './router.js';

const ok = () => ({ status: 200, body: {} });

function route(method: Route['method'], path: string): Route {
  return { method, path, handler: ok };
}

const routes = [
  route('GET', '/api/v1/overrides'),
  route('GET', '/api/v1/overrides/count'),
  route('PUT', '/api/v1/overrides/:service/:target'),
  route('DELETE', '/api/v1/overrides/:service/:target'),
  route('GET', '/api/v1/things/:id'),
];

describe('createRouter.match', () => {
  const router = createRouter(routes);
  const cases = [
    {
      name: 'literal',
      method: 'GET',
      path: '/api/v1/overrides',
      want: { found: '/api/v1/overrides', params: {} },
    },
    {
      name: 'params',
      method: 'PUT',
      path: '/api/v1/overrides/app.example.com/10.0.0.1:80',
      want: {
        found: '/api/v1/overrides/:service/:target',
        params: { service: 'app.example.com', target: '10.0.0.1:80' },
      },
    },
    {
      name: 'IPv6 target, raw',
      method: 'DELETE',
      path: '/api/v1/overrides/svc/[2001:db8::1]:80',
      want: {
        found: '/api/v1/overrides/:service/:target',
        params: { service: 'svc', target: '[2001:db8::1]:80' },
      },
    },
    {
      name: 'IPv6 target, percent-encoded',
      method: 'DELETE',
      path: '/api/v1/overrides/svc/%5B2001%3Adb8%3A%3A1%5D%3A80',
      want: {
        found: '/api/v1/overrides/:service/:target',
        params: { service: 'svc', target: '[2001:db8::1]:80' },
      },
    },
    {
      name: 'earlier literal beats later param',
      method: 'GET',
      path: '/api/v1/overrides/count',
      want: { found: '/api/v1/overrides/count', params: {} },
    },
    {
      name: 'param named like a prototype key',
      method: 'GET',
      path: '/api/v1/things/__proto__',
      want: { found: '/api/v1/things/:id', params: { id: '__proto__' } },
    },
    { name: 'unknown path', method: 'GET', path: '/api/v2/overrides', want: { kind: 'not_found' } },
    { name: 'trailing slash', method: 'GET', path: '/api/v1/overrides/', want: { kind: 'not_found' } },
    { name: 'empty param', method: 'PUT', path: '/api/v1/overrides//x', want: { kind: 'not_found' } },
    { name: 'too many segments', method: 'GET', path: '/api/v1/things/a/b', want: { kind: 'not_found' } },
    {
      name: 'not absolute',
      method: 'GET',
      path: 'http://host/api/v1/overrides',
      want: { kind: 'not_found' },
    },
    {
      name: 'wrong method',
      method: 'POST',
      path: '/api/v1/overrides/svc/t',
      want: {
        kind: 'method_not_allowed',
        pattern: '/api/v1/overrides/:service/:target',
        allow: ['PUT', 'DELETE'],
      },
    },
    {
      name: 'HEAD is not GET',
      method: 'HEAD',
      path: '/api/v1/overrides',
      want: { kind: 'method_not_allowed', pattern: '/api/v1/overrides', allow: ['GET'] },
    },
    {
      name: 'encoded slash in param',
      method: 'PUT',
      path: '/api/v1/overrides/svc/a%2Fb',
      want: { kind: 'bad_path', message: 'path parameter "target" must not contain "/", got "a/b"' },
    },
    {
      name: 'broken escape',
      method: 'GET',
      path: '/api/v1/things/%E0%A4%A',
      want: { kind: 'bad_path', message: 'path segment "%E0%A4%A" is not valid percent-encoded UTF-8' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const m = router.match(c.method, c.path);
      const got = m.kind === 'found' ? { found: m.route.path, params: { ...m.params } } : m;
      assert.deepEqual(got, c.want);
    });
  }
});

describe('createRouter validation', () => {
  const cases = [
    {
      name: 'duplicate shape',
      routes: [route('GET', '/a/:x'), route('GET', '/a/:y')],
      message: 'duplicate route GET /a/:y',
    },
    { name: 'relative path', routes: [route('GET', 'a')], message: 'route path "a" must start with "/"' },
    {
      name: 'repeated param',
      routes: [route('GET', '/a/:x/:x')],
      message: 'route path "/a/:x/:x": parameter ":x" appears twice',
    },
    {
      name: 'bad param name',
      routes: [route('GET', '/a/:')],
      message: 'route path "/a/:": parameter ":" must match ^[A-Za-z_][A-Za-z0-9_]*$',
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.throws(() => createRouter(c.routes), { message: c.message }));
  }

  it('allows the same pattern with different methods', () => {
    assert.doesNotThrow(() => createRouter([route('GET', '/a/:x'), route('PUT', '/a/:y')]));
  });
});
