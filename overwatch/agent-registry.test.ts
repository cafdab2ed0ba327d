import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AgentClaim, backendKey, createAgentRegistry, type HelloInfo } from './agent-registry.js';

const B1 = { service: 'app.example.com', address: '10.0.0.1', port: 80, weight: 100 };
const B2 = { service: 'app.example.com', address: '10.0.0.2', port: 80, weight: 100 };
const hello = (id: string, backends = [B1]): HelloInfo => ({
  id,
  hostname: `${id}.local`,
  region: 'east',
  version: '1',
  nodeId: 'n1',
  backends,
});
const report = (sequence: number) => ({
  sequence,
  cpuPercent: 1,
  memoryPercent: 2,
  errorRatePercent: 0,
  signals: [],
});
const claims = (healthy: boolean) =>
  new Map<string, AgentClaim>([[backendKey(B1), { healthy, latencyMs: 1, error: '' }]]);
const wall = new Date(0);

describe('createAgentRegistry', () => {
  it('goes stale after the threshold and is removed after remove_after (manual clock)', () => {
    const r = createAgentRegistry();
    const { session } = r.hello(hello('a'), 0, wall);
    assert.ok(r.report('a', session, report(1), claims(true), 1000, wall));
    assert.deepEqual(r.sweep(30_999, 30_000, 300_000), { staled: [], removed: [] });
    assert.deepEqual(r.sweep(31_000, 30_000, 300_000), { staled: ['a'], removed: [] });
    assert.equal(r.get('a')?.state, 'stale');
    assert.deepEqual(r.sweep(40_000, 30_000, 300_000), { staled: [], removed: [] }, 'stale is reported once');
    assert.deepEqual(r.sweep(301_000, 30_000, 300_000), { staled: [], removed: ['a'] });
    assert.equal(r.get('a'), undefined);
  });

  it('a report revives a stale agent', () => {
    const r = createAgentRegistry();
    const { session } = r.hello(hello('a'), 0, wall);
    r.sweep(31_000, 30_000, 300_000);
    assert.ok(r.report('a', session, report(2), claims(true), 32_000, wall));
    assert.equal(r.get('a')?.state, 'active');
  });

  it('forgets an agent at once on Goodbye', () => {
    const r = createAgentRegistry();
    const { session } = r.hello(hello('a'), 0, wall);
    assert.equal(r.goodbye('a', session), true);
    assert.equal(r.get('a'), undefined);
  });

  it('ignores messages and disconnects of a superseded session', () => {
    const r = createAgentRegistry();
    const old = r.hello(hello('a'), 0, wall).session;
    const fresh = r.hello(hello('a'), 10, wall);
    assert.equal(fresh.replaced, true);
    r.disconnect('a', old);
    assert.equal(r.get('a')?.connected, true, 'an old stream ending must not disconnect the new one');
    assert.equal(r.report('a', old, report(9), claims(false), 20, wall), false);
    assert.equal(r.goodbye('a', old), false);
    assert.ok(r.get('a'));
  });

  it('keeps claims across a reconnect only for backends still announced', () => {
    const r = createAgentRegistry();
    const s1 = r.hello(hello('a', [B1, B2]), 0, wall).session;
    r.report(
      'a',
      s1,
      report(1),
      new Map([
        [backendKey(B1), { healthy: true, latencyMs: 1, error: '' }],
        [backendKey(B2), { healthy: true, latencyMs: 1, error: '' }],
      ]),
      1,
      wall,
    );
    r.disconnect('a', s1);
    r.hello(hello('a', [B1]), 2, wall);
    assert.deepEqual([...(r.get('a')?.claims.keys() ?? [])], [backendKey(B1)]);
  });

  it('ignores claims for backends the agent did not announce', () => {
    const r = createAgentRegistry();
    const s = r.hello(hello('a', [B1]), 0, wall).session;
    r.report(
      'a',
      s,
      report(1),
      new Map([[backendKey(B2), { healthy: true, latencyMs: 1, error: '' }]]),
      1,
      wall,
    );
    assert.equal(r.get('a')?.claims.size, 0);
  });
});
