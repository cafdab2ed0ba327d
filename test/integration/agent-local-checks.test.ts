/**
 * The agent's local check decides: a backend whose /health answers 500 is reported unhealthy and leaves the
 * answers (and returns when it passes again); a check pointed at a separate health port (health_check.port)
 * follows that server while DNS keeps serving the backend's own address. Addresses 127.0.22.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  agentPolicy,
  FAST_AGENT_CHECK,
  type RunningAgent,
  startAgent,
  stopAgents,
  waitConnected,
} from '../testkit/agent.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { backendAt, waitAnswers } from '../testkit/observe-agents.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { freePort } from '../testkit/ports.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
/** Backend checked on its own port. */
const DIRECT = '127.0.22.2';
/** Backend checked through a separate health server on the same address, another port. */
const SIDECAR = '127.0.22.3';
/** Local checks 250ms apart, fall 3, plus a report every 300ms, plus slack for a loaded machine. */
const VERDICT_MS = 5000;

describe('agent local checks', () => {
  let run: RunningOpengslb | undefined;
  let direct: TestBackend | undefined;
  let health: TestBackend | undefined;
  /** The sidecar backend's service port: nothing listens there, so only the health port can pass. */
  let sidecarPort = 0;
  const agents: RunningAgent[] = [];
  const ow = (): RunningOpengslb => {
    assert.ok(run, 'overwatch started');
    return run;
  };

  before(async () => {
    [direct] = await startBackends([DIRECT]);
    [health] = await startBackends([SIDECAR]);
    assert.ok(direct && health);
    sidecarPort = await freePort(SIDECAR);
    assert.notEqual(sidecarPort, health.port);
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
          domains: [{ name: NAME, regions: ['r'], max_records: 3 }],
          cluster: { overwatch: agentPolicy({ [NAME]: TOKEN }) },
        }),
    });
    const overwatch = [`127.0.0.1:${run.ports.grpc}`];
    agents.push(
      startAgent({
        config: {
          id: 'direct',
          region: 'r',
          overwatch,
          token: TOKEN,
          backends: [{ service: NAME, address: DIRECT, port: direct.port }],
        },
      }),
      startAgent({
        config: {
          id: 'sidecar',
          region: 'r',
          overwatch,
          token: TOKEN,
          backends: [
            {
              service: NAME,
              address: SIDECAR,
              port: sidecarPort,
              health_check: { ...FAST_AGENT_CHECK, port: health.port },
            },
          ],
        },
      }),
    );
    await Promise.all(agents.map((a) => waitConnected(a)));
    await waitAnswers(run, NAME, [DIRECT, SIDECAR], 10_000);
  });

  after(async () => {
    await stopAgents(agents);
    await run?.stop();
    await Promise.all([direct?.stop(), health?.stop()]);
  });

  it('a failing /health makes the backend unhealthy and takes it out of the answers; passing brings it back', async () => {
    assert.ok(direct);
    direct.setStatus(500);
    await waitAnswers(ow(), NAME, [SIDECAR], VERDICT_MS);
    const b = await backendAt(ow(), DIRECT);
    assert.equal(b?.status, 'unhealthy');
    assert.equal(b?.agent_id, 'direct');
    assert.match(b?.reason ?? '', /^agent direct reports unhealthy/);
    direct.setStatus(200);
    await waitAnswers(ow(), NAME, [DIRECT, SIDECAR], VERDICT_MS);
    assert.equal((await backendAt(ow(), DIRECT))?.status, 'healthy');
  });

  it('health_check.port sends the local check to another server; DNS serves the backend address', async () => {
    assert.ok(health);
    const hc = health;
    // Healthy although nothing listens on the service port: the check goes to the health server.
    const b = await backendAt(ow(), SIDECAR);
    assert.deepEqual(
      { port: b?.port, status: b?.status },
      { port: sidecarPort, status: 'healthy' },
      'registered with its service port, healthy through the health port',
    );
    const hits = hc.hits();
    await waitFor('the health server to be checked again', () => (hc.hits() > hits ? true : undefined), 3000);

    hc.setStatus(500);
    await waitAnswers(ow(), NAME, [DIRECT], VERDICT_MS);
    assert.equal((await backendAt(ow(), SIDECAR))?.status, 'unhealthy');
    hc.setStatus(200);
    await waitAnswers(ow(), NAME, [DIRECT, SIDECAR], VERDICT_MS);
  });
});
