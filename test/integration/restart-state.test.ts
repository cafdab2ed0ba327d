/**
 * Decisions survive a restart (docs/decisions.md: "Overrides and decisions survive restarts"): with a drained
 * backend (operator override, no ttl) and a vetoed one, SIGTERM the overwatch and start it again on the same
 * --data-dir. Before any agent reconnects, the override is listed, the decisions are as they were, DNS still
 * excludes both, and event ids continue where they stopped; once the agent is back, nothing flips. Addresses
 * 127.0.46.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  agentPolicy,
  FAST_AGENT_CHECK,
  type RunningAgent,
  startAgent,
  waitConnected,
} from '../testkit/agent.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import {
  agentNamed,
  type BackendJson,
  backendAt,
  backendsOf,
  waitAnswers,
} from '../testkit/observe-agents.js';
import {
  deleteOverride,
  type EventJson,
  eventsOf,
  type OverrideJson,
  overridesOf,
  putOverride,
} from '../testkit/observe-decisions.js';
import {
  createDataDir,
  type DataDir,
  type Ports,
  type RunningOpengslb,
  startOpengslb,
} from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const AGENT = 'web-1';
const DRAINED = '127.0.46.2';
const VETOED = '127.0.46.3';
const SERVING = '127.0.46.4';
/** Long enough that the restarted node keeps the absent agent's decisions ("pending") for the whole test. */
const STALE_MS = 30_000;

/** The decision fields a restart must keep, per address. */
function decisions(
  list: readonly BackendJson[],
): Record<string, Pick<BackendJson, 'status' | 'source' | 'reason' | 'effective_weight'>> {
  const out: Record<string, Pick<BackendJson, 'status' | 'source' | 'reason' | 'effective_weight'>> = {};
  for (const b of list) {
    out[b.address] = {
      status: b.status,
      source: b.source,
      reason: b.reason,
      effective_weight: b.effective_weight,
    };
  }
  return out;
}

describe('an overwatch restarted on the same data dir', () => {
  let dataDir: DataDir | undefined;
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];
  const agents: RunningAgent[] = [];
  let port = 0;
  let healthPort = 0;
  let ports: Ports | undefined;
  /** What the first process showed just before SIGTERM. */
  let beforeRestart:
    | { events: EventJson[]; overrides: OverrideJson[]; backends: ReturnType<typeof decisions> }
    | undefined;

  const start = (fixed?: Ports): Promise<RunningOpengslb> =>
    startOpengslb({
      ...(fixed === undefined ? {} : { ports: fixed }),
      dataDir: (dataDir as DataDir).path,
      config: (p) =>
        gslbConfig(p, {
          regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
          domains: [{ name: NAME, regions: ['r'], max_records: 4 }],
          cluster: {
            overwatch: agentPolicy(
              { [NAME]: TOKEN },
              {
                veto_mode: 'balanced',
                veto_threshold: 2,
                external_check_interval: '300ms',
                stale_threshold: `${STALE_MS}ms`,
                remove_after: `${STALE_MS * 2}ms`,
              },
            ),
          },
        }),
    });
  /** A fresh agent process with the same id and backends (the agent the test killed, coming back). */
  const agentFor = (r: RunningOpengslb): RunningAgent => {
    const a = startAgent({
      config: {
        id: AGENT,
        region: 'r',
        overwatch: [`127.0.0.1:${r.ports.grpc}`],
        token: TOKEN,
        backends: [
          { service: NAME, address: DRAINED, port },
          // Its agent checks an always-OK side port; the port DNS hands out fails below: a veto.
          { service: NAME, address: VETOED, port, health_check: { ...FAST_AGENT_CHECK, port: healthPort } },
          { service: NAME, address: SERVING, port },
        ],
      },
    });
    agents.push(a);
    return a;
  };

  before(async () => {
    dataDir = createDataDir();
    const service = await startBackends([DRAINED, VETOED, SERVING]);
    const side = await startBackends([VETOED]);
    backends = [...service, ...side];
    port = service[0]?.port ?? 0;
    healthPort = side[0]?.port ?? 0;
    run = await start();
    ports = run.ports;
    await waitConnected(agentFor(run));
    await waitAnswers(run, NAME, [DRAINED, VETOED, SERVING], 10_000);
  });

  after(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
    dataDir?.remove();
  });

  it('first run: a drain override and a veto take two backends out', async () => {
    assert.ok(run);
    const r = run;
    const res = await putOverride(
      r,
      NAME,
      `${DRAINED}:${port}`,
      { action: 'drain', reason: 'maintenance' },
      { 'x-user': 'alice' },
    );
    assert.equal(res.status, 200, JSON.stringify(res.body));
    backends[1]?.setStatus(500);
    await waitFor(
      `${VETOED} vetoed`,
      async () => ((await backendAt(r, VETOED))?.status === 'vetoed' ? true : undefined),
      5000,
    );
    assert.deepEqual(await r.addresses(NAME), [SERVING]);
    beforeRestart = {
      events: await eventsOf(r),
      overrides: await overridesOf(r),
      backends: decisions(await backendsOf(r)),
    };
    assert.equal(beforeRestart.backends[DRAINED]?.status, 'draining');
    assert.equal(beforeRestart.backends[VETOED]?.status, 'vetoed');
    assert.ok(beforeRestart.events.length > 0);
  });

  it('after SIGTERM and a restart, before the agent is back: override, decisions and DNS as they were', async () => {
    assert.ok(run && ports && beforeRestart);
    // The agent goes first (no Goodbye, which would deregister its backends): nothing can reconnect.
    const gone = agents[0];
    assert.ok(gone);
    gone.signal('SIGKILL');
    await gone.exited;
    assert.equal(await run.stop(), 0, `first run's exit code; output:\n${run.output().slice(-2000)}`);

    run = await start(ports);
    const r = run;
    assert.match(r.output(), /"msg":"decision log replayed"/);
    assert.equal(await agentNamed(r, AGENT), undefined, 'no agent has connected to the new process');
    assert.deepEqual(
      await overridesOf(r),
      beforeRestart.overrides,
      'GET /api/v1/overrides after the restart',
    );
    assert.deepEqual(
      decisions(await backendsOf(r)),
      beforeRestart.backends,
      'GET /api/v1/backends after the restart',
    );
    assert.deepEqual(
      await r.addresses(NAME),
      [SERVING],
      'DNS still excludes the drained and the vetoed backend',
    );
    // The audit trail is the same, ids included.
    const events = await eventsOf(r);
    assert.deepEqual(events.slice(0, beforeRestart.events.length), beforeRestart.events);
  });

  it('event ids continue after the restart, and the returning agent changes nothing', async () => {
    assert.ok(run && beforeRestart);
    const r = run;
    const lastBefore = Math.max(...beforeRestart.events.map((e) => Number(e.id)));
    await waitConnected(agentFor(r));
    await waitFor(
      `${AGENT} reporting again`,
      async () =>
        (await agentNamed(r, AGENT))?.backends.every((b) => b.healthy === true) ? true : undefined,
      5000,
    );
    // The last decisions stand until the agent's first report: its Hello alone must not make them unknown.
    const flaps = (await eventsOf(r)).filter((e) => Number(e.id) > lastBefore && e.source !== 'override');
    assert.deepEqual(flaps, [], 'decision changes caused by the agent coming back');
    assert.deepEqual(await r.addresses(NAME), [SERVING], 'still drained and vetoed with the agent back');
    assert.equal((await backendAt(r, DRAINED))?.status, 'draining');
    assert.equal((await backendAt(r, VETOED))?.status, 'vetoed');

    const del = await deleteOverride(r, NAME, `${DRAINED}:${port}`, { 'x-user': 'alice' });
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual(await r.addresses(NAME), [DRAINED, SERVING], 'the drain is cleared; the veto stands');
    const events = await eventsOf(r);
    const fresh = events.filter((e) => !beforeRestart?.events.some((x) => x.id === e.id));
    assert.ok(
      fresh.some((e) => e.reason === 'override cleared by alice'),
      JSON.stringify(fresh),
    );
    for (const e of fresh)
      assert.ok(Number(e.id) > lastBefore, `event ${e.id} reuses an id up to ${lastBefore}`);
    const ids = events.map((e) => Number(e.id));
    assert.deepEqual(
      ids,
      [...new Set(ids)].sort((a, b) => a - b),
      'ids unique and increasing',
    );
  });
});
