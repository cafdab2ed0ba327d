/**
 * Predictive bleed end to end (docs/decisions.md, authority 4 and "Panic threshold"): two real agents, one
 * backend each, under one `weighted` domain; each agent reads its CPU from a file. Over the threshold, one
 * backend's effective weight steps down to 0 over cpu.bleed_duration (REST, metric, and its share of DNS
 * answers), and after recovery climbs back the same way (slow start). With panic_threshold 0.5 two bleeding
 * backends are held so the service keeps half its configured weight, and a `panic` event says so.
 * Addresses 127.0.43.x (one bleeds) and 127.0.44.x (both bleed).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AGENT_REPORT_MS,
  agentPolicy,
  createSignalFile,
  type RunningAgent,
  type SignalFile,
  startAgent,
  stopAgents,
  waitConnected,
} from '../testkit/agent.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { firstAddresses, tally } from '../testkit/observe.js';
import { agentNamed, type BackendJson, backendAt, backendsOf } from '../testkit/observe-agents.js';
import { waitEvent } from '../testkit/observe-decisions.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { metricSum } from '../testkit/prom-text.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const WEIGHT = 100;
const BLEED_MS = 3000;
/** cpu.threshold; the idle reading is far below it and the busy one far above. */
const CPU_THRESHOLD = 80;
const IDLE = 10;
const BUSY = 95;
/** error_rate.window, which is also the agent's hysteresis hold before a CPU bleed ends. */
const WINDOW_MS = 1000;
/** A decide pass follows every agent report (and a 1 s tick), so a due ramp step lands within one report. */
const PASS_MS = AGENT_REPORT_MS;
/**
 * From the CPU write: one report to carry the bleed, the ramp, one more report for the pass that writes 0, and
 * 1 s for the agent's file read and a loaded 2-core machine.
 */
const BLEED_BOUND_MS = AGENT_REPORT_MS + BLEED_MS + PASS_MS + 1000;
/** From the CPU write: the hysteresis hold, then the same ramp upwards. */
const RECOVER_BOUND_MS = WINDOW_MS + BLEED_BOUND_MS;
const QUERIES = 400;

/** An overwatch with a `weighted` domain for two agents; `panic` is cluster.overwatch.panic_threshold. */
function startOverwatch(panic: number): Promise<RunningOpengslb> {
  return startOpengslb({
    config: (ports) =>
      gslbConfig(ports, {
        regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
        domains: [{ name: NAME, regions: ['r'], routing_algorithm: 'weighted' }],
        cluster: {
          overwatch: agentPolicy({ [NAME]: TOKEN }, { panic_threshold: panic }),
          predictive_health: {
            cpu: { threshold: CPU_THRESHOLD, bleed_duration: `${BLEED_MS}ms` },
            memory: { threshold: 99 },
            error_rate: { window: `${WINDOW_MS}ms` },
          },
        },
      }),
  });
}

/** Two backends, each behind its own agent whose CPU reading comes from a file the test moves. */
interface Fleet {
  run: RunningOpengslb;
  backends: TestBackend[];
  agents: RunningAgent[];
  cpu: SignalFile[];
}

async function startFleet(addresses: [string, string], panic: number, fleet: Partial<Fleet>): Promise<Fleet> {
  fleet.backends = await startBackends(addresses);
  fleet.cpu = [createSignalFile(IDLE), createSignalFile(IDLE)];
  const run = await startOverwatch(panic);
  fleet.run = run;
  const cpu = fleet.cpu;
  fleet.agents = fleet.backends.map((b, i) =>
    startAgent({
      config: {
        id: `agent-${i + 1}`,
        region: 'r',
        overwatch: [`127.0.0.1:${run.ports.grpc}`],
        token: TOKEN,
        cpu_file: (cpu[i] as SignalFile).path,
        backends: [{ service: NAME, address: b.address, port: b.port, weight: WEIGHT }],
      },
    }),
  );
  await Promise.all(fleet.agents.map((a) => waitConnected(a)));
  await waitFor(
    'both backends healthy at full weight',
    async () => {
      const list = await backendsOf(run);
      const full = addresses.every((a) => {
        const b = list.find((x) => x.address === a);
        return b?.status === 'healthy' && b.effective_weight === WEIGHT;
      });
      return full ? true : undefined;
    },
    10_000,
  );
  return fleet as Fleet;
}

async function stopFleet(fleet: Partial<Fleet>): Promise<void> {
  await stopAgents(fleet.agents ?? []);
  await fleet.run?.stop();
  await Promise.all((fleet.backends ?? []).map((b) => b.stop()));
  for (const f of fleet.cpu ?? []) f.remove();
}

/**
 * Polls one backend's effective weight until `done` holds, recording every distinct value on the way; returns
 * them (in order) and the ms from `since`.
 */
async function watchWeight(
  run: RunningOpengslb,
  address: string,
  what: string,
  done: (b: BackendJson) => boolean,
  timeoutMs: number,
  since: number,
): Promise<{ seen: number[]; ms: number }> {
  const seen: number[] = [];
  await waitFor(
    what,
    async () => {
      const b = await backendAt(run, address);
      if (b === undefined) throw new Error(`${address} not listed`);
      if (seen[seen.length - 1] !== b.effective_weight) seen.push(b.effective_weight);
      if (!done(b)) throw new Error(`${address}: ${b.status} weight ${b.effective_weight} (${b.reason})`);
      return true;
    },
    timeoutMs,
    10,
  );
  return { seen, ms: performance.now() - since };
}

const weightMetric = async (run: RunningOpengslb, b: TestBackend): Promise<number | undefined> =>
  metricSum(await run.metrics(), 'opengslb_backend_effective_weight', {
    service: NAME,
    backend: `${b.address}:${b.port}`,
  });

describe('one backend bleeds on CPU (panic_threshold 0.1)', () => {
  const BLEEDS = '127.0.43.2';
  const STEADY = '127.0.43.3';
  const fleet: Partial<Fleet> = {};
  const ow = (): RunningOpengslb => {
    assert.ok(fleet.run, 'overwatch started');
    return fleet.run;
  };
  const share = async (): Promise<Map<string, number>> => tally(await firstAddresses(ow(), NAME, QUERIES));

  before(async () => {
    await startFleet([BLEEDS, STEADY], 0.1, fleet);
  });

  after(async () => {
    await stopFleet(fleet);
  });

  it(`splits ${QUERIES} answers about evenly while neither bleeds`, async () => {
    const counts = await share();
    const n = counts.get(BLEEDS) ?? 0;
    // Weighted draws: 50 % +- 15 points is more than 5 standard deviations at 400 draws.
    assert.ok(n >= QUERIES * 0.35 && n <= QUERIES * 0.65, `${BLEEDS} got ${n}/${QUERIES}`);
    assert.equal(n + (counts.get(STEADY) ?? 0), QUERIES);
  });

  it(`CPU ${BUSY}% steps the weight down to 0 within bleed_duration + 1 report, and its answers to none`, async (t) => {
    const run = ow();
    const [bleeds, steady] = fleet.backends ?? [];
    assert.ok(bleeds && steady && fleet.cpu?.[0]);
    const since = performance.now();
    fleet.cpu[0].set(BUSY);
    const { seen, ms } = await watchWeight(
      run,
      BLEEDS,
      `${BLEEDS} effective weight 0`,
      (b) => b.effective_weight === 0,
      BLEED_BOUND_MS + 5000,
      since,
    );
    t.diagnostic(`weights ${seen.join(' -> ')} in ${ms.toFixed(0)}ms (bleed_duration ${BLEED_MS}ms)`);
    assert.ok(ms <= BLEED_BOUND_MS, `weight 0 after ${ms.toFixed(0)}ms; bound ${BLEED_BOUND_MS}ms`);
    // A ramp, not a jump: the ramp starts one report after the write, so 0 cannot come before bleed_duration.
    assert.ok(ms >= BLEED_MS, `weight 0 after ${ms.toFixed(0)}ms, sooner than bleed_duration ${BLEED_MS}ms`);
    assert.ok(
      seen.some((w) => w > 0 && w < WEIGHT),
      `an intermediate weight strictly between 0 and ${WEIGHT}: ${seen.join(' -> ')}`,
    );
    assert.ok(
      seen.every((w, i) => i === 0 || w < (seen[i - 1] ?? 0)),
      `the weight only goes down: ${seen.join(' -> ')}`,
    );

    const d = await backendAt(run, BLEEDS);
    assert.equal(d?.status, 'healthy', 'bleeding is not a failure: the status stays healthy');
    assert.equal(d?.source, 'predictive');
    assert.match(d?.reason ?? '', new RegExp(`predictive bleed: cpu >= ${CPU_THRESHOLD}%`));
    assert.equal(
      await weightMetric(run, bleeds),
      0,
      'opengslb_backend_effective_weight of the bleeding backend',
    );
    assert.equal(await weightMetric(run, steady), WEIGHT, 'the other backend keeps its weight');
    assert.equal((await agentNamed(run, 'agent-1'))?.signals.cpu?.state, 'bleed');
    await waitEvent(
      run,
      `predictive event for ${BLEEDS}`,
      (e) => e.backend === `${BLEEDS}:${bleeds.port}` && e.source === 'predictive',
      1000,
    );

    const counts = await share();
    assert.equal(counts.get(BLEEDS) ?? 0, 0, `${BLEEDS} still answered: ${JSON.stringify([...counts])}`);
    assert.equal(counts.get(STEADY), QUERIES);
  });

  it(`CPU back to ${IDLE}% slow-starts the weight back to ${WEIGHT} after the hysteresis hold`, async (t) => {
    const run = ow();
    const [bleeds] = fleet.backends ?? [];
    assert.ok(bleeds && fleet.cpu?.[0]);
    const since = performance.now();
    fleet.cpu[0].set(IDLE);
    let slowStart = '';
    const { seen, ms } = await watchWeight(
      run,
      BLEEDS,
      `${BLEEDS} effective weight ${WEIGHT}`,
      (b) => {
        if (b.effective_weight > 0 && b.effective_weight < WEIGHT) slowStart = b.reason;
        return b.effective_weight === WEIGHT;
      },
      RECOVER_BOUND_MS + 5000,
      since,
    );
    t.diagnostic(
      `weights ${seen.join(' -> ')} in ${ms.toFixed(0)}ms (window ${WINDOW_MS}ms + ramp ${BLEED_MS}ms)`,
    );
    assert.ok(
      ms <= RECOVER_BOUND_MS,
      `weight ${WEIGHT} after ${ms.toFixed(0)}ms; bound ${RECOVER_BOUND_MS}ms`,
    );
    assert.ok(ms >= BLEED_MS, `back at ${WEIGHT} after ${ms.toFixed(0)}ms: a jump, not a slow start`);
    assert.ok(
      seen.some((w) => w > 0 && w < WEIGHT),
      `an intermediate weight on the way up: ${seen.join(' -> ')}`,
    );
    assert.ok(
      seen.every((w, i) => i === 0 || w > (seen[i - 1] ?? 0)),
      `the weight only goes up: ${seen.join(' -> ')}`,
    );
    assert.equal(slowStart, 'slow start after predictive recovery');
    const d = await backendAt(run, BLEEDS);
    assert.equal(d?.source, 'agent', `back under the agent's claim: ${JSON.stringify(d)}`);
    assert.equal(await weightMetric(run, bleeds), WEIGHT);
  });
});

describe('both backends bleed (panic_threshold 0.5)', () => {
  const ADDRESSES: [string, string] = ['127.0.44.2', '127.0.44.3'];
  const fleet: Partial<Fleet> = {};

  before(async () => {
    await startFleet(ADDRESSES, 0.5, fleet);
  });

  after(async () => {
    await stopFleet(fleet);
  });

  it('holds the service at >= 50 % of its configured weight and records a panic event', async (t) => {
    const { run, cpu } = fleet;
    assert.ok(run && cpu);
    const total = 2 * WEIGHT;
    for (const f of cpu) f.set(BUSY);
    const sums: number[] = [];
    // Until both are held: every observation on the way must keep the floor.
    await waitFor(
      'both backends held at the panic threshold',
      async () => {
        const list = (await backendsOf(run)).filter((b) => ADDRESSES.includes(b.address));
        const sum = list.reduce((s, b) => s + b.effective_weight, 0);
        if (sums[sums.length - 1] !== sum) sums.push(sum);
        const held =
          list.length === 2 && list.every((b) => /held at the panic threshold \(0\.5\)/.test(b.reason));
        return held && sum === total / 2 ? true : undefined;
      },
      BLEED_BOUND_MS + 5000,
      10,
    );
    t.diagnostic(`service weight ${sums.join(' -> ')} of ${total}`);
    assert.ok(
      sums.every((s) => s >= total / 2),
      `service weight fell below 50 % of ${total}: ${sums.join(' -> ')}`,
    );
    const e = await waitEvent(run, 'panic event', (x) => x.source === 'panic', 1000);
    assert.equal(e.service, NAME);
    assert.equal(e.backend, '', 'a service-wide event');
    assert.match(
      e.reason,
      /panic threshold: bleeding held so app\.example\.com keeps 50% of its configured weight/,
    );
    assert.equal(metricSum(await run.metrics(), 'opengslb_overwatch_panic', { service: NAME }), 1);
    // Held, both still answer.
    const counts = tally(await firstAddresses(run, NAME, 100));
    for (const a of ADDRESSES)
      assert.ok((counts.get(a) ?? 0) > 0, `${a} answered: ${JSON.stringify([...counts])}`);
  });
});
