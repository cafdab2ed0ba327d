import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { loadOverwatchConfig } from '../internal/config/overwatch.js';
import type { Query } from '../internal/dns/types.js';
import { seededRand } from '../internal/testkit/seeded-rand.js';
import { buildAnswerTable } from './answer-table.js';
import { backendsOf } from './backends.js';
import { createDnsHandler } from './dns-handler.js';
import { createOverwatchMetrics } from './metrics.js';

const CONFIG = `
regions:
  - name: east
    servers: [{address: 192.0.2.1}, {address: 192.0.2.2}]
domains:
  - name: app.example.com
    regions: [east]
`;

const query = (name: string): Query => ({
  id: 1,
  question: { name, type: 'A', class: 'IN' },
  recursionDesired: false,
  edns: undefined,
});

async function count(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (m?.values ?? []) as Array<{ value: number; labels: Record<string, string | number> }>;
  return v
    .filter((x) => Object.entries(labels).every(([k, l]) => x.labels[k] === l))
    .reduce((a, x) => a + x.value, 0);
}

describe('createDnsHandler', () => {
  const loaded = loadOverwatchConfig({ file: undefined, text: CONFIG });
  assert.ok(loaded.ok);
  const config = loaded.value;
  const table = buildAnswerTable(config, backendsOf(config), () => true, 1, undefined);

  function handler(serving: { open: boolean }) {
    const registry = new Registry();
    const metrics = createOverwatchMetrics(registry, 'test');
    const gateTimes: number[] = [];
    let clock = 100;
    const handle = createDnsHandler({
      metrics,
      mayServe: (now) => {
        gateTimes.push(now);
        return serving.open;
      },
      table: () => table,
      ready: () => true,
      rand: seededRand(1),
      now: () => clock++,
    });
    return { handle, registry, gateTimes };
  }

  it('asks the gate per query, at the time the query is handled, and counts a refusal', async () => {
    const serving = { open: false };
    const { handle, registry, gateTimes } = handler(serving);
    assert.equal(handle(query('app.example.com')).rcode, 'REFUSED');
    serving.open = true;
    const a = handle(query('app.example.com'));
    assert.equal(a.rcode, 'NOERROR');
    assert.equal(a.answers.length, 1);
    assert.deepEqual(gateTimes, [100, 101], 'one gate decision per query, on the handler clock');
    assert.equal(await count(registry, 'opengslb_dns_refused_total'), 1);
    assert.equal(await count(registry, 'opengslb_dns_queries_total', { rcode: 'REFUSED', qtype: 'A' }), 1);
    assert.equal(await count(registry, 'opengslb_dns_queries_total', { rcode: 'NOERROR', qtype: 'A' }), 1);
  });

  it('rotates round robin per domain across queries', () => {
    const { handle } = handler({ open: true });
    const firsts = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const rr = handle(query('app.example.com')).answers[0];
      if (rr !== undefined) firsts.add(JSON.stringify(rr));
    }
    assert.equal(firsts.size, 2, 'both backends lead an answer in four queries');
  });
});
