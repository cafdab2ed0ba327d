/**
 * Three real agents, each fronting one real HTTP backend, register with an overwatch whose region has no
 * static servers: DNS answers all three addresses, and REST, `opengslbctl agents|backends` (tables and
 * --json) and `opengslbctl explain` show them with their agent ids. Addresses 127.0.20.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentPolicy, type RunningAgent, startAgent, stopAgents, waitConnected } from '../testkit/agent.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { ctlJson, rowOf, runCtl } from '../testkit/ctl.js';
import { agentsOf, backendsOf, waitAnswers } from '../testkit/observe-agents.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const AGENTS = [
  { id: 'agent-a', address: '127.0.20.2' },
  { id: 'agent-b', address: '127.0.20.3' },
  { id: 'agent-c', address: '127.0.20.4' },
];
const ADDRESSES = AGENTS.map((a) => a.address);

describe('agents register their backends', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];
  const agents: RunningAgent[] = [];
  const ow = (): RunningOpengslb => {
    assert.ok(run, 'overwatch started');
    return run;
  };
  const portOf = (): number => (backends[0] as TestBackend).port;

  before(async () => {
    backends = await startBackends(ADDRESSES);
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
          domains: [{ name: NAME, regions: ['r'], max_records: 3 }],
          cluster: { overwatch: agentPolicy({ [NAME]: TOKEN }) },
        }),
    });
    const grpc = `127.0.0.1:${run.ports.grpc}`;
    for (const a of AGENTS) {
      agents.push(
        startAgent({
          config: {
            id: a.id,
            region: 'r',
            overwatch: [grpc],
            token: TOKEN,
            backends: [{ service: NAME, address: a.address, port: portOf() }],
          },
        }),
      );
    }
    await Promise.all(agents.map((a) => waitConnected(a)));
    await waitAnswers(run, NAME, ADDRESSES, 10_000);
  });

  after(async () => {
    await stopAgents(agents);
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('DNS answers every agent-registered address', async () => {
    assert.deepEqual(await ow().addresses(NAME), ADDRESSES);
  });

  it('GET /api/v1/agents and /api/v1/backends list them with their agent ids', async () => {
    const listed = await agentsOf(ow());
    assert.deepEqual(
      listed.map((a) => ({ id: a.id, connected: a.connected, state: a.state, backends: a.backends })),
      AGENTS.map((a) => ({
        id: a.id,
        connected: true,
        state: 'active',
        backends: [{ service: NAME, address: a.address, port: portOf(), weight: 100, healthy: true }],
      })),
    );
    const backendRows = (await backendsOf(ow()))
      .filter((b) => b.service === NAME)
      .sort((x, y) => x.address.localeCompare(y.address));
    assert.deepEqual(
      backendRows.map((b) => ({ address: b.address, agent: b.agent_id, status: b.status, source: b.source })),
      AGENTS.map((a) => ({ address: a.address, agent: a.id, status: 'healthy', source: 'agent' })),
    );
  });

  it('opengslbctl agents lists each agent with its backend, as a table and as JSON', async () => {
    const table = await runCtl(ow(), ['agents']);
    assert.equal(table.code, 0, table.stderr);
    for (const a of AGENTS) {
      const row = rowOf(table.stdout, a.id);
      assert.ok(row.includes(`${a.address}:${portOf()}`), `row of ${a.id} names its backend: ${row}`);
      assert.match(row, /\btrue\b/, `row of ${a.id} says connected: ${row}`);
    }
    const json = (await ctlJson(ow(), ['agents'])) as {
      agents: Array<{ id: string; connected?: boolean; backends: Array<{ address: string }> }>;
    };
    assert.deepEqual(
      json.agents.map((a) => ({
        id: a.id,
        connected: a.connected,
        addresses: a.backends.map((b) => b.address),
      })),
      AGENTS.map((a) => ({ id: a.id, connected: true, addresses: [a.address] })),
    );
  });

  it('opengslbctl backends lists each backend with its agent id, as a table and as JSON', async () => {
    const table = await runCtl(ow(), ['backends']);
    assert.equal(table.code, 0, table.stderr);
    for (const a of AGENTS) {
      const row = rowOf(table.stdout, `${a.address}:`);
      assert.ok(row.includes(a.id), `row of ${a.address} names agent ${a.id}: ${row}`);
      assert.match(row, /\bhealthy\b/, `row of ${a.address}: ${row}`);
    }
    const json = (await ctlJson(ow(), ['backends', NAME])) as {
      backends: Array<{ ref: { address: string }; agentId?: string; status: string }>;
    };
    assert.deepEqual(
      json.backends
        .map((b) => ({ address: b.ref.address, agent: b.agentId, status: b.status }))
        .sort((x, y) => x.address.localeCompare(y.address)),
      AGENTS.map((a) => ({ address: a.address, agent: a.id, status: 'BACKEND_STATUS_HEALTHY' })),
    );
  });

  it('opengslbctl explain prints the answer and one line per backend with its reason', async () => {
    const res = await runCtl(ow(), ['explain', NAME, '--client', '198.51.100.7']);
    assert.equal(res.code, 0, res.stderr);
    const [head] = res.stdout.split('\n');
    assert.ok(head?.includes(`${NAME} A for client 198.51.100.7: NOERROR ->`), `answer line: ${head}`);
    for (const address of ADDRESSES) assert.ok(head?.includes(address), `answer has ${address}: ${head}`);
    for (const a of AGENTS) {
      const row = rowOf(res.stdout, `${a.address}:${portOf()}`);
      assert.ok(row.includes(`agent ${a.id} reports healthy`), `reason of ${a.address}: ${row}`);
    }
  });
});
