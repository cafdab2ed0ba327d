/**
 * The REST API of a standalone node: liveness, readiness, version, health and inventory views, cluster views,
 * the JSON error envelope, and client network restrictions. Addresses 127.0.6.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VERSION } from '../../internal/version/version.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig, serversOf } from '../testkit/config.js';
import { serverStatuses, waitHealth } from '../testkit/observe.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';

const UP = '127.0.6.2';
/** Nothing listens here: a server with a failing check and a last_error. */
const DOWN = '127.0.6.3';
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `body[field]` as a list of objects, asserting the shape. */
function listOf(body: unknown, field: string): Record<string, unknown>[] {
  assert.ok(isRecord(body), `body is an object: ${JSON.stringify(body)}`);
  const list = body[field];
  assert.ok(Array.isArray(list), `body.${field} is a list: ${JSON.stringify(body)}`);
  return list.filter(isRecord);
}

function assertErrorEnvelope(body: unknown, code: string): void {
  assert.ok(isRecord(body) && isRecord(body['error']), `error envelope: ${JSON.stringify(body)}`);
  const err = body['error'];
  assert.deepEqual(Object.keys(err).sort(), ['code', 'message']);
  assert.equal(err['code'], code);
  assert.equal(typeof err['message'], 'string');
  assert.notEqual(err['message'], '');
}

describe('REST API', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];

  before(async () => {
    backends = await startBackends([UP]);
    const port = (backends[0] as TestBackend).port;
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [
            {
              name: 'us-east',
              servers: [...serversOf(backends), { address: DOWN, port }],
              health_check: FAST_CHECK,
            },
          ],
          domains: [{ name: 'app.example.com', regions: ['us-east'], max_records: 2, ttl: 7 }],
        }),
    });
    await waitHealth(run, { [UP]: true, [DOWN]: false });
  });

  after(async () => {
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  const get = async (path: string) => {
    assert.ok(run);
    return run.api(path);
  };

  it('GET /api/v1/live is 200', async () => {
    assert.deepEqual(await get('/api/v1/live'), { status: 200, body: { status: 'live' } });
  });

  it('GET /api/v1/ready is 200 after the first round', async () => {
    assert.deepEqual(await get('/api/v1/ready'), { status: 200, body: { ready: true } });
  });

  it('GET /api/v1/version names the build version', async () => {
    const res = await get('/api/v1/version');
    assert.equal(res.status, 200);
    assert.ok(isRecord(res.body));
    assert.equal(res.body['version'], VERSION);
    assert.match(String(res.body['started_at']), RFC3339);
  });

  it('GET /api/v1/health/servers lists every server with its check state', async () => {
    const res = await get('/api/v1/health/servers');
    assert.equal(res.status, 200);
    const servers = listOf(res.body, 'servers');
    const fields = [
      'address',
      'port',
      'region',
      'healthy',
      'last_check',
      'consecutive_failures',
      'consecutive_successes',
      'last_error',
      'rtt_ms',
    ];
    assert.equal(servers.length, 2);
    for (const s of servers) {
      assert.deepEqual(Object.keys(s).sort(), [...fields].sort(), `fields of ${JSON.stringify(s)}`);
      assert.equal(s['port'], (backends[0] as TestBackend).port);
      assert.equal(s['region'], 'us-east');
      assert.match(String(s['last_check']), RFC3339, 'last_check is RFC 3339');
    }
    const up = servers.find((s) => s['address'] === UP);
    const down = servers.find((s) => s['address'] === DOWN);
    assert.ok(up && down, `both servers listed: ${JSON.stringify(servers)}`);
    assert.equal(up['healthy'], true);
    assert.equal(up['last_error'], null);
    assert.equal(up['consecutive_failures'], 0);
    assert.ok(Number(up['consecutive_successes']) >= 1, 'passing server counts successes');
    assert.equal(typeof up['rtt_ms'], 'number');
    assert.ok(Number(up['rtt_ms']) >= 0);
    assert.equal(down['healthy'], false);
    assert.equal(typeof down['last_error'], 'string');
    assert.notEqual(down['last_error'], '');
    assert.ok(Number(down['consecutive_failures']) >= 1, 'failing server counts failures');
    assert.equal(down['consecutive_successes'], 0);
  });

  it('GET /api/v1/domains shows configuration and live backend counts', async () => {
    const res = await get('/api/v1/domains');
    assert.equal(res.status, 200);
    const [d, ...rest] = listOf(res.body, 'domains');
    assert.equal(rest.length, 0);
    assert.ok(d);
    assert.equal(d['name'], 'app.example.com');
    assert.equal(d['routing_algorithm'], 'round-robin');
    assert.deepEqual(d['regions'], ['us-east']);
    assert.equal(d['ttl'], 7);
    assert.equal(d['max_records'], 2);
    assert.equal(d['total_backends'], 2);
    assert.equal(d['healthy_backends'], 1);
  });

  it('GET /api/v1/backends shows each backend with its status', async () => {
    const res = await get('/api/v1/backends');
    assert.equal(res.status, 200);
    const list = listOf(res.body, 'backends');
    const status = Object.fromEntries(list.map((b) => [String(b['address']), b['status']]));
    assert.deepEqual(status, { [UP]: 'healthy', [DOWN]: 'unhealthy' });
    for (const b of list) assert.equal(b['service'], 'app.example.com');
  });

  it('GET /api/v1/cluster/status reports a standalone leader', async () => {
    const res = await get('/api/v1/cluster/status');
    assert.equal(res.status, 200);
    assert.ok(isRecord(res.body));
    assert.equal(res.body['mode'], 'standalone');
    assert.equal(res.body['is_leader'], true);
  });

  it('GET /api/v1/cluster/health is 200 on a standalone node', async () => {
    assert.equal((await get('/api/v1/cluster/health')).status, 200);
  });

  it('an unknown path is 404 with the JSON error envelope', async () => {
    assert.ok(run);
    const raw = await fetch(`http://127.0.0.1:${run.ports.api}/api/v1/no-such-thing`);
    assert.equal(raw.status, 404);
    assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
    assertErrorEnvelope(await raw.json(), 'not_found');
  });
});

describe('REST API client networks', () => {
  const running: RunningOpengslb[] = [];
  after(async () => {
    await Promise.all(running.map((r) => r.stop()));
  });

  async function start(apiLines: string): Promise<RunningOpengslb> {
    // Not ready-gated: /api/v1/ready itself may be refused; startup waits for the listeners instead.
    const r = await startOpengslb({
      waitReady: false,
      config: (ports) => gslbConfig(ports, { regions: [], domains: [], api: apiLines }),
    });
    running.push(r);
    return r;
  }

  it('refuses a loopback client outside allowed_networks with allow_loopback false (403)', async () => {
    const r = await start('  allowed_networks: ["10.0.0.0/8"]\n  allow_loopback: false');
    for (const path of ['/api/v1/live', '/api/v1/health/servers', '/api/v1/no-such-thing']) {
      const res = await r.api(path);
      assert.equal(res.status, 403, `${path} from 127.0.0.1`);
      assertErrorEnvelope(res.body, 'forbidden');
    }
  });

  it('admits a loopback client by default even when allowed_networks excludes it (200)', async () => {
    const r = await start('  allowed_networks: ["10.0.0.0/8"]');
    assert.equal((await r.api('/api/v1/live')).status, 200);
    assert.equal((await serverStatuses(r)).length, 0);
  });
});
