/**
 * Predictive signals end to end: the agent reads CPU from a file (`source: {type: file}`), the test moves it
 * across the overwatch's threshold and watches `bleed` arrive in /api/v1/agents, `opengslbctl agents` and
 * opengslb_predictive_state, then leave after the hysteresis hold; a SIGHUP that changes the threshold reaches
 * the connected agent without a restart. Addresses 127.0.27.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  agentPolicy,
  createSignalFile,
  type RunningAgent,
  type SignalFile,
  startAgent,
  waitConnected,
  waitLogged,
} from '../testkit/agent.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, type GslbYaml, gslbConfig } from '../testkit/config.js';
import { rowOf, runCtl } from '../testkit/ctl.js';
import { agentNamed, type SignalJson } from '../testkit/observe-agents.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { metricSum } from '../testkit/prom-text.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const ADDRESS = '127.0.27.2';
const AGENT = 'busy';
const REPORT_MS = 300;
/** One report interval, plus the agent's read and the overwatch's bookkeeping on a loaded 2-core machine. */
const BLEED_BOUND_MS = REPORT_MS + 700;
/** The policy's error-rate window: the agent holds a CPU bleed this long below threshold - 5 before leaving. */
const WINDOW_MS = 1000;

/** The overwatch configuration with a CPU threshold of `cpuThreshold` percent. */
function body(cpuThreshold: number): GslbYaml {
  return {
    regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
    domains: [{ name: NAME, regions: ['r'] }],
    cluster: {
      overwatch: agentPolicy({ [NAME]: TOKEN }),
      predictive_health: {
        cpu: { threshold: cpuThreshold },
        memory: { threshold: 99 },
        error_rate: { window: `${WINDOW_MS}ms` },
      },
    },
  };
}

describe('predictive CPU signal from a real agent', () => {
  let run: RunningOpengslb | undefined;
  let backend: TestBackend | undefined;
  let agent: RunningAgent | undefined;
  let cpu: SignalFile | undefined;
  let memory: SignalFile | undefined;
  const ow = (): RunningOpengslb => {
    assert.ok(run, 'overwatch started');
    return run;
  };
  const cpuSignal = async (): Promise<SignalJson | null | undefined> =>
    (await agentNamed(ow(), AGENT))?.signals.cpu;
  /** Waits until the overwatch shows the agent's CPU signal satisfying `ok`; returns ms since `since`. */
  const waitCpu = async (what: string, ok: (s: SignalJson) => boolean, timeoutMs: number, since: number) => {
    await waitFor(
      `cpu signal ${what}`,
      async () => {
        const s = await cpuSignal();
        if (s === null || s === undefined || !ok(s)) throw new Error(`cpu signal ${JSON.stringify(s)}`);
        return true;
      },
      timeoutMs,
      10,
    );
    return performance.now() - since;
  };
  const stateMetric = async (): Promise<number | undefined> =>
    metricSum(await ow().metrics(), 'opengslb_predictive_state', {
      service: NAME,
      backend: `${ADDRESS}:${backend?.port}`,
      signal: 'cpu',
    });

  before(async () => {
    [backend] = await startBackends([ADDRESS]);
    assert.ok(backend);
    cpu = createSignalFile(20);
    memory = createSignalFile(30);
    run = await startOpengslb({ config: (ports) => gslbConfig(ports, body(80)) });
    agent = startAgent({
      config: {
        id: AGENT,
        region: 'r',
        overwatch: [`127.0.0.1:${run.ports.grpc}`],
        token: TOKEN,
        report_interval: `${REPORT_MS}ms`,
        cpu_file: cpu.path,
        memory_file: memory.path,
        backends: [{ service: NAME, address: ADDRESS, port: backend.port }],
      },
    });
    await waitConnected(agent);
    await waitCpu('ok at 20% with threshold 80', (s) => s.state === 'ok' && s.value === 20, 5000, 0);
  });

  after(async () => {
    await agent?.stop();
    await run?.stop();
    await backend?.stop();
    cpu?.remove();
    memory?.remove();
  });

  it(`CPU over the threshold is a bleed at the overwatch within ${BLEED_BOUND_MS}ms`, async (t) => {
    assert.ok(cpu);
    const since = performance.now();
    cpu.set(95);
    const ms = await waitCpu('bleed at 95%', (s) => s.state === 'bleed' && s.value === 95, 5000, since);
    t.diagnostic(`bleed visible ${ms.toFixed(0)}ms after the write (report interval ${REPORT_MS}ms)`);
    assert.ok(ms <= BLEED_BOUND_MS, `bleed after ${ms.toFixed(0)}ms; bound ${BLEED_BOUND_MS}ms`);
    const s = await cpuSignal();
    assert.equal(s?.threshold, 80);
    assert.match(s?.reason ?? '', /cpu 95\.0% >= 80%/);

    assert.equal(await stateMetric(), 2, 'opengslb_predictive_state{signal="cpu"} is 2 (bleed)');
    const ctl = await runCtl(ow(), ['agents']);
    assert.equal(ctl.code, 0, ctl.stderr);
    assert.match(rowOf(ctl.stdout, AGENT), /cpu=95\.0\(bleed\)/);
  });

  it('CPU back under the threshold leaves bleed after the hysteresis hold, without a warning', async () => {
    assert.ok(cpu);
    const since = performance.now();
    cpu.set(10);
    const seen = new Set<string>();
    await waitFor(
      'cpu signal ok at 10%',
      async () => {
        const s = await cpuSignal();
        if (s) seen.add(s.state);
        return s?.state === 'ok' && s.value === 10 ? true : undefined;
      },
      WINDOW_MS + 5000,
      10,
    );
    const ms = performance.now() - since;
    assert.ok(
      ms >= WINDOW_MS - REPORT_MS,
      `left bleed after ${ms.toFixed(0)}ms, before the ${WINDOW_MS}ms hold`,
    );
    assert.ok(!seen.has('warning'), `states seen on the way down: ${[...seen].join(', ')}`);
    await waitFor(
      'opengslb_predictive_state{signal="cpu"} 0',
      async () => ((await stateMetric()) === 0 ? true : undefined),
      2000,
    );
  });

  it('a SIGHUP changing the CPU threshold reaches the connected agent without a restart', async () => {
    assert.ok(cpu && agent);
    const a = agent;
    ow().writeConfig(gslbConfig(ow().ports, body(50)));
    ow().signal('SIGHUP');
    await waitLogged(a, 'predictive policy from overwatch', 5000, 2);
    await waitCpu('threshold 50', (s) => s.threshold === 50, 3000, 0);
    // The agent's predictor uses it: 60% is under the old threshold and over the new one.
    cpu.set(60);
    await waitCpu('bleed at 60% with threshold 50', (s) => s.state === 'bleed' && s.value === 60, 3000, 0);
    assert.equal(a.logged('connected to overwatch').length, 1, 'the same stream, no reconnect');
    assert.equal(a.proc.exitCode, null, 'the agent kept running');
    assert.equal((await agentNamed(ow(), AGENT))?.connected, true);
  });
});
