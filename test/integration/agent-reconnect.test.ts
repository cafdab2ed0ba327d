/**
 * The overwatch restarts (SIGTERM, then started again on the same ports): its agents notice, retry with
 * backoff and reconnect by themselves, their backends are served again, and each agent logged the loss once,
 * not once per retry. Addresses 127.0.25.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  agentPolicy,
  atLeast,
  type RunningAgent,
  startAgent,
  stopAgents,
  waitConnected,
  waitLogged,
} from '../testkit/agent.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { agentsOf, waitAnswers } from '../testkit/observe-agents.js';
import { allocatePorts, type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const ADDRESSES = ['127.0.25.2', '127.0.25.3'];
/** Failed attempts after the loss before the overwatch comes back. */
const RETRIES = 3;

/** Connection attempts that failed after the loss was logged (loud or quiet). */
function failedAttempts(a: RunningAgent): number {
  return a
    .logs()
    .filter((l) => l.msg === 'cannot connect to overwatch' || l.msg === 'retrying overwatch connection')
    .length;
}

/** Backoff doubles from 500 ms with full jitter; a few seconds of outage stay well inside this. */
const RECONNECT_MS = 20_000;

describe('overwatch restart', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];
  let config = '';
  const agents: RunningAgent[] = [];

  before(async () => {
    backends = await startBackends(ADDRESSES);
    const ports = await allocatePorts();
    config = gslbConfig(ports, {
      regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
      domains: [{ name: NAME, regions: ['r'], max_records: 3 }],
      cluster: { overwatch: agentPolicy({ [NAME]: TOKEN }) },
    });
    run = await startOpengslb({ config, ports });
    for (const [i, b] of backends.entries()) {
      agents.push(
        startAgent({
          config: {
            id: `agent-${i}`,
            region: 'r',
            overwatch: [`127.0.0.1:${ports.grpc}`],
            token: TOKEN,
            backends: [{ service: NAME, address: b.address, port: b.port }],
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

  it('agents reconnect by themselves and their backends are served again', async (t) => {
    assert.ok(run);
    const ports = run.ports;
    assert.equal(await run.stop(), 0, 'the first overwatch exits cleanly');
    await Promise.all(agents.map((a) => waitLogged(a, 'lost connection to overwatch', 5000)));
    // Keep the overwatch down until every agent has failed RETRIES more times, so "once" is measured.
    await waitFor(
      `every agent to retry ${RETRIES} times`,
      () => (agents.every((a) => failedAttempts(a) >= RETRIES) ? true : undefined),
      10_000,
    );

    const restartedAt = performance.now();
    run = await startOpengslb({ config, ports });
    await Promise.all(agents.map((a) => waitLogged(a, 'connected to overwatch', RECONNECT_MS, 2)));
    const servedMs = await waitAnswers(run, NAME, ADDRESSES, RECONNECT_MS, restartedAt);
    t.diagnostic(`served again ${servedMs.toFixed(0)}ms after the restart began`);
    const listed = await agentsOf(run);
    assert.deepEqual(
      listed.map((a) => ({ id: a.id, connected: a.connected })),
      agents.map((a) => ({ id: a.id, connected: true })),
    );

    for (const a of agents) {
      const logs = a.logs();
      const lost = logs.filter((l) => l.msg === 'lost connection to overwatch');
      const loud = logs.filter((l) => atLeast(l, 'warn'));
      const retries = logs.filter((l) => l.msg === 'retrying overwatch connection');
      t.diagnostic(`${a.id}: ${loud.length} warn lines, ${retries.length} quiet retries`);
      assert.ok(loud.length + retries.length >= RETRIES + 1, `${a.id} retried:\n${a.output()}`);
      assert.equal(lost.length, 1, `${a.id} logs the loss once:\n${a.output()}`);
      assert.equal(a.logged('connected to overwatch').length, 2, `${a.id} connected twice`);
      // At most: the loss, then the first refused attempt; identical refusals after it stay at debug.
      assert.ok(
        loud.length <= 2,
        `${a.id} logs retries quietly, got ${loud.length} warn lines:\n${a.output()}`,
      );
    }
  });
});
