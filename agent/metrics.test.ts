import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { backendLabel, createAgentMetrics } from './metrics.js';

/** The sample lines of `name` (no comments), sorted, from the registry's exposition. */
async function linesOf(registry: Registry, name: string): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`))
    .sort();
}

describe('createAgentMetrics', () => {
  it('exposes the agent families with their values', async () => {
    const m = createAgentMetrics(new Registry());
    m.connected.set(1);
    m.reportsSent.inc(3);
    m.reconnects.inc();
    m.observeReading('cpu', { value: 91, threshold: 80, trendPerMinute: 0, state: 'bleed', reason: '' });
    m.observeReading('memory', { value: 40, threshold: 85, trendPerMinute: 1, state: 'ok', reason: '' });
    m.observeReading('error_rate', {
      value: 4,
      threshold: 5,
      trendPerMinute: 2,
      state: 'warning',
      reason: '',
    });
    m.setBackendHealthy('app.example.com', '10.0.1.10', 80, true);
    m.setBackendHealthy('app.example.com', '2001:db8::1', 8080, false);

    const expected: Record<string, string[]> = {
      opengslb_agent_connected: ['opengslb_agent_connected 1'],
      opengslb_agent_reports_sent_total: ['opengslb_agent_reports_sent_total 3'],
      opengslb_agent_reconnects_total: ['opengslb_agent_reconnects_total 1'],
      opengslb_agent_cpu_percent: ['opengslb_agent_cpu_percent 91'],
      opengslb_agent_memory_percent: ['opengslb_agent_memory_percent 40'],
      opengslb_agent_error_rate_percent: ['opengslb_agent_error_rate_percent 4'],
      opengslb_agent_predictive_state: [
        'opengslb_agent_predictive_state{signal="cpu"} 2',
        'opengslb_agent_predictive_state{signal="error_rate"} 1',
        'opengslb_agent_predictive_state{signal="memory"} 0',
      ],
      opengslb_agent_backend_healthy: [
        'opengslb_agent_backend_healthy{service="app.example.com",backend="10.0.1.10:80"} 1',
        'opengslb_agent_backend_healthy{service="app.example.com",backend="[2001:db8::1]:8080"} 0',
      ],
    };
    for (const [name, want] of Object.entries(expected)) {
      assert.deepEqual(await linesOf(m.registry, name), want, name);
    }
  });

  it('starts disconnected and includes process metrics by default', async () => {
    const m = createAgentMetrics();
    assert.deepEqual(await linesOf(m.registry, 'opengslb_agent_connected'), ['opengslb_agent_connected 0']);
    assert.equal((await linesOf(m.registry, 'nodejs_heap_size_total_bytes')).length, 1, 'process metrics');
  });

  it('formats backend labels', () => {
    assert.equal(backendLabel('10.0.0.1', 443), '10.0.0.1:443');
    assert.equal(backendLabel('::1', 80), '[::1]:80');
  });
});
