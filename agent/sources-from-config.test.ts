import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadAgentConfig } from '../internal/config/agent.js';
import type { AgentPredictiveConfig } from '../internal/config/agent-schema.js';
import { createSignalSources } from './sources-from-config.js';

function predictive(yaml: string): AgentPredictiveConfig {
  const r = loadAgentConfig({
    file: undefined,
    text: `agent:
  region: r1
  overwatch: {addresses: ["127.0.0.1:9443"]}
  backends: [{service: app.example.com, address: 127.0.0.1}]
  predictive:
${yaml}`,
  });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return r.value.agent.predictive;
}

describe('createSignalSources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opengslb-sources-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds file sources and the health-check error rate', async () => {
    writeFileSync(join(dir, 'cpu'), '91\n');
    writeFileSync(join(dir, 'mem'), '42\n');
    let t = 0;
    const s = await createSignalSources(
      predictive(
        `    cpu: {source: {type: file, path: ${join(dir, 'cpu')}}}\n    memory: {source: {type: file, path: ${join(dir, 'mem')}}}\n`,
      ),
      { errorRateWindowMs: () => 60_000, now: () => t },
    );
    assert.deepEqual(s.describe, {
      cpu: `file ${join(dir, 'cpu')}`,
      memory: `file ${join(dir, 'mem')}`,
      error_rate: 'health_checks',
    });
    assert.equal(await s.sources.cpu.read(), 91);
    assert.equal(await s.sources.memory.read(), 42);
    s.recordCheck(true);
    t = 1000;
    s.recordCheck(false);
    assert.equal(await s.sources.error_rate.read(), 50);
  });

  it('builds host sources and a Prometheus error rate', async () => {
    writeFileSync(join(dir, 'stat'), 'cpu  10 0 0 90 0 0 0 0 0 0\n');
    writeFileSync(join(dir, 'meminfo'), 'MemTotal: 100 kB\nMemAvailable: 30 kB\n');
    const s = await createSignalSources(
      predictive('    error_rate: {source: {type: prometheus, url: "http://127.0.0.1:1/metrics"}}\n'),
      { errorRateWindowMs: () => 60_000, host: { procDir: dir } },
    );
    assert.deepEqual(s.describe, {
      cpu: 'host (proc)',
      memory: 'host (proc)',
      error_rate: 'prometheus http://127.0.0.1:1/metrics http_requests_total',
    });
    assert.equal(await s.sources.memory.read(), 70);
    s.recordCheck(false);
    await assert.rejects(
      s.sources.error_rate.read(),
      /scrape http:\/\/127\.0\.0\.1:1\/metrics: ECONNREFUSED/,
    );
  });
});
