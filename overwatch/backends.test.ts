import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOverwatchConfig } from '../internal/config/overwatch.js';
import { backendsOf, mergeAgentBackends } from './backends.js';

const r = loadOverwatchConfig({
  file: undefined,
  text: `
regions:
  - {name: east, servers: [{address: 10.0.0.1}]}
  - {name: west, servers: [{address: 10.0.1.1}]}
  - {name: dyn, servers: []}
domains:
  - {name: app.example.com, regions: [east, dyn, west]}
`,
});
assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
const config = r.value;

describe('mergeAgentBackends', () => {
  it('marks a static backend an agent announces as agent-fronted', () => {
    const got = mergeAgentBackends(config, backendsOf(config), [
      { agentId: 'a', region: 'east', service: 'app.example.com', address: '10.0.0.1', port: 80, weight: 5 },
    ]);
    assert.deepEqual(
      got.map((b) => [b.address, b.agentId, b.weight]),
      [
        ['10.0.0.1', 'a', 100],
        ['10.0.1.1', undefined, 100],
      ],
      'the configured weight stays authoritative for a static backend',
    );
  });
  it("adds an unknown backend in its region's failover position, or last", () => {
    const got = mergeAgentBackends(config, backendsOf(config), [
      { agentId: 'a', region: 'dyn', service: 'app.example.com', address: '10.0.2.1', port: 80, weight: 50 },
      {
        agentId: 'b',
        region: 'elsewhere',
        service: 'app.example.com',
        address: '10.0.3.1',
        port: 80,
        weight: 50,
      },
    ]);
    assert.deepEqual(
      got.map((b) => b.address),
      ['10.0.0.1', '10.0.2.1', '10.0.1.1', '10.0.3.1'],
    );
    assert.equal(got[1]?.healthKey, 'agent:a/10.0.2.1:80');
  });
  it('skips services that are not configured domains', () => {
    const got = mergeAgentBackends(config, backendsOf(config), [
      {
        agentId: 'a',
        region: 'east',
        service: 'other.example.com',
        address: '10.9.9.9',
        port: 80,
        weight: 1,
      },
    ]);
    assert.equal(got.length, 2);
  });
});
