/**
 * Prometheus metrics of a running node: the series with their labels, values that follow what the
 * test did, and no label that carries a query name or a client address. Addresses 127.0.7.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VERSION } from '../../internal/version/version.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig, serversOf } from '../testkit/config.js';
import { waitHealth } from '../testkit/observe.js';
import { type RunningOpengslb, rcodeOf, startOpengslb } from '../testkit/opengslb.js';
import { metricSum, parseSamples } from '../testkit/prom-text.js';

const UP = ['127.0.7.2', '127.0.7.3'];
const DOWN = '127.0.7.4';
/** A marker that must never reach /metrics: it is only ever a query name. */
const SECRET = 'leakcheck-5f1e9c';
/** The only label names opengslb_* series may have; none can carry a name or an address. */
// Bounded by configuration (services, configured or registered backends, agents), never by clients.
const BOUNDED_LABELS = new Set([
  'qtype',
  'rcode',
  'reason',
  'region',
  'result',
  'version',
  'le',
  'mode',
  'applied',
  'service',
  'backend',
  'action',
  'signal',
  'agent',
  'code',
]);

describe('metrics', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];
  let text = '';
  const counts = { noerror: 25, nxdomain: 3, refused: 2, mx: 1 };

  before(async () => {
    backends = await startBackends(UP);
    const port = (backends[0] as TestBackend).port;
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [
            { name: 'east', servers: serversOf(backends), health_check: FAST_CHECK },
            { name: 'west', servers: [{ address: DOWN, port }], health_check: FAST_CHECK },
          ],
          domains: [{ name: 'app.example.com', regions: ['east', 'west'] }],
        }),
    });
    await waitHealth(run, { [UP[0] as string]: true, [UP[1] as string]: true, [DOWN]: false });
    const expectRcode = async (name: string, type: string, rcode: string): Promise<void> => {
      assert.ok(run);
      assert.equal(rcodeOf(await run.udp(name, type)), rcode, `${name} ${type}`);
    };
    for (let i = 0; i < counts.noerror; i++) await expectRcode('app.example.com', 'A', 'NOERROR');
    for (let i = 0; i < counts.nxdomain; i++)
      await expectRcode(`${SECRET}-${i}.app.example.com`, 'A', 'NXDOMAIN');
    for (let i = 0; i < counts.refused; i++) await expectRcode(`${SECRET}.example.org`, 'A', 'REFUSED');
    await expectRcode('app.example.com', 'MX', 'NOERROR');
    text = await run.metrics();
  });

  after(async () => {
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('opengslb_dns_queries_total counts by qtype and rcode', () => {
    const q = (labels: Record<string, string>) => metricSum(text, 'opengslb_dns_queries_total', labels);
    assert.equal(q({ qtype: 'A', rcode: 'NOERROR' }), counts.noerror);
    assert.equal(q({ qtype: 'A', rcode: 'NXDOMAIN' }), counts.nxdomain);
    assert.equal(q({ qtype: 'A', rcode: 'REFUSED' }), counts.refused);
    assert.equal(q({ qtype: 'MX', rcode: 'NOERROR' }), counts.mx);
  });

  it('opengslb_dns_query_duration_seconds is a histogram observed once per query', () => {
    const total = counts.noerror + counts.nxdomain + counts.refused + counts.mx;
    assert.equal(metricSum(text, 'opengslb_dns_query_duration_seconds_count'), total);
    assert.equal(metricSum(text, 'opengslb_dns_query_duration_seconds_bucket', { le: '+Inf' }), total);
    const sum = metricSum(text, 'opengslb_dns_query_duration_seconds_sum');
    assert.ok(sum !== undefined && sum > 0 && sum < total, `sum of seconds ${sum}`);
  });

  it('opengslb_health_check_results_total counts by region and result', () => {
    const r = (labels: Record<string, string>) =>
      metricSum(text, 'opengslb_health_check_results_total', labels) ?? 0;
    assert.ok(r({ region: 'east', result: 'success' }) >= 2, 'both east servers passed at least once');
    assert.ok(r({ region: 'west', result: 'failure' }) >= 1, 'the west server failed');
    assert.equal(r({ region: 'west', result: 'success' }), 0);
  });

  it('opengslb_healthy_servers is per region', () => {
    assert.equal(metricSum(text, 'opengslb_healthy_servers', { region: 'east' }), 2);
    assert.equal(metricSum(text, 'opengslb_healthy_servers', { region: 'west' }), 0);
  });

  it('opengslb_config_reloads_total exists for both results before any reload', () => {
    assert.equal(metricSum(text, 'opengslb_config_reloads_total', { result: 'success' }), 0);
    assert.equal(metricSum(text, 'opengslb_config_reloads_total', { result: 'failure' }), 0);
  });

  it('opengslb_app_info carries the version', () => {
    assert.equal(metricSum(text, 'opengslb_app_info', { version: VERSION }), 1);
  });

  it('no label carries a query name or a client address', () => {
    assert.ok(!text.includes(SECRET), 'a queried name appears in /metrics');
    assert.ok(!text.includes('example.org'), 'a refused name appears in /metrics');
    const own = parseSamples(text).filter((s) => s.name.startsWith('opengslb_'));
    assert.ok(own.length > 0);
    for (const s of own) {
      for (const [k, v] of Object.entries(s.labels)) {
        assert.ok(BOUNDED_LABELS.has(k), `${s.name} has label ${k}="${v}", not one of the bounded set`);
        if (k === 'backend') continue; // a configured backend's address:port, not a client's
        assert.doesNotMatch(
          v,
          /^\d+\.\d+\.\d+\.\d+$|:.*:/,
          `${s.name} label ${k}="${v}" looks like an address`,
        );
      }
    }
  });
});
