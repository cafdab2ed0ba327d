/**
 * How an agent leaves: killed (SIGKILL, no Goodbye) its backend turns stale within stale_threshold and leaves
 * the answers, and the agent is forgotten after remove_after; stopped (SIGTERM) it says Goodbye and is
 * deregistered at once, long before a stale threshold could have fired. Addresses 127.0.21.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AGENT_REPORT_MS,
  agentPolicy,
  type RunningAgent,
  startAgent,
  stopAgents,
  waitConnected,
} from '../testkit/agent.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { rowOf, runCtl } from '../testkit/ctl.js';
import { agentNamed, backendAt, waitAnswers } from '../testkit/observe-agents.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const REPORT_MS = AGENT_REPORT_MS;
/** The sweep runs once a second, so a verdict lands up to 1 s after the silence crosses its threshold. */
const SWEEP_MS = 1000;
const STALE_MS = 2000;
/** Far enough after STALE_MS for the REST and opengslbctl checks of the stale state on a loaded machine. */
const REMOVE_MS = 7000;

/** Why a silent agent's backend is out: `agent doomed silent since <time>` (or `agent doomed stale`). */
const STALE_REASON = /agent doomed (silent since|stale)/;

/** An overwatch for agents with `app.example.com` in region `r` (no static servers). */
function startOverwatch(staleThreshold: string, removeAfter: string): Promise<RunningOpengslb> {
  return startOpengslb({
    config: (ports) =>
      gslbConfig(ports, {
        regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
        domains: [{ name: NAME, regions: ['r'], max_records: 3 }],
        cluster: {
          // strict: nothing but the agent vouches for its backends, so a stale one is out of the answers.
          overwatch: agentPolicy(
            { [NAME]: TOKEN },
            { veto_mode: 'strict', stale_threshold: staleThreshold, remove_after: removeAfter },
          ),
        },
      }),
  });
}

function agentFor(run: RunningOpengslb, id: string, b: TestBackend): RunningAgent {
  return startAgent({
    config: {
      id,
      region: 'r',
      overwatch: [`127.0.0.1:${run.ports.grpc}`],
      token: TOKEN,
      backends: [{ service: NAME, address: b.address, port: b.port }],
    },
  });
}

describe('an agent killed without Goodbye', () => {
  const KILLED = '127.0.21.2';
  const SURVIVOR = '127.0.21.3';
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];
  let victim: RunningAgent | undefined;
  const agents: RunningAgent[] = [];

  before(async () => {
    backends = await startBackends([KILLED, SURVIVOR]);
    run = await startOverwatch(`${STALE_MS}ms`, `${REMOVE_MS}ms`);
    victim = agentFor(run, 'doomed', backends[0] as TestBackend);
    agents.push(victim, agentFor(run, 'survivor', backends[1] as TestBackend));
    await Promise.all(agents.map((a) => waitConnected(a)));
    await waitAnswers(run, NAME, [KILLED, SURVIVOR], 10_000);
  });

  after(async () => {
    await stopAgents(agents);
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  it(`turns stale within stale_threshold, leaves the answers, and is removed after remove_after`, async (t) => {
    assert.ok(run && victim);
    const r = run;
    const killedAt = performance.now();
    victim.signal('SIGKILL');
    assert.equal(await victim.exited, 'SIGKILL');

    await waitFor(
      `${KILLED} stale`,
      async () => ((await backendAt(r, KILLED))?.status === 'stale' ? true : undefined),
      STALE_MS + SWEEP_MS + 3000,
    );
    const staleMs = performance.now() - killedAt;
    t.diagnostic(`stale after ${staleMs.toFixed(0)}ms (stale_threshold ${STALE_MS}ms)`);
    assert.ok(
      staleMs <= STALE_MS + 1500,
      `stale after ${staleMs.toFixed(0)}ms; bound stale_threshold ${STALE_MS}ms + 1500ms`,
    );
    // The last report came at most one interval before the kill: an earlier verdict is not the threshold's.
    assert.ok(
      staleMs >= STALE_MS - REPORT_MS - 100,
      `stale after ${staleMs.toFixed(0)}ms, before stale_threshold ${STALE_MS}ms minus one report interval`,
    );
    const rest = await backendAt(r, KILLED);
    assert.equal(rest?.agent_id, 'doomed');
    assert.match(rest?.reason ?? '', STALE_REASON);
    assert.deepEqual(await r.addresses(NAME), [SURVIVOR], 'the stale backend left the answers');
    assert.equal((await agentNamed(r, 'doomed'))?.state, 'stale');

    const ctl = await runCtl(r, ['backends']);
    assert.equal(ctl.code, 0, ctl.stderr);
    assert.match(rowOf(ctl.stdout, `${KILLED}:`), /\bstale\b.*\bdoomed\b/);

    // Explain: the stale backend is ineligible and its line says why.
    const ex = await runCtl(r, ['explain', NAME, '--client', '198.51.100.7']);
    assert.equal(ex.code, 0, ex.stderr);
    assert.ok(ex.stdout.split('\n')[0]?.endsWith(`-> ${SURVIVOR} (ttl 30)`), ex.stdout);
    const row = rowOf(ex.stdout, `${KILLED}:`);
    assert.match(row, /\bstale\b/, `status of the stale backend: ${row}`);
    assert.match(row, /\bfalse\b/, `not eligible: ${row}`);
    assert.match(row, STALE_REASON, `reason of the stale backend: ${row}`);
    assert.match(rowOf(ex.stdout, `${SURVIVOR}:`), /agent survivor reports healthy/);

    await waitFor(
      'doomed removed from /api/v1/agents',
      async () => ((await agentNamed(r, 'doomed')) === undefined ? true : undefined),
      REMOVE_MS + SWEEP_MS + 3000,
    );
    const removedMs = performance.now() - killedAt;
    t.diagnostic(`removed after ${removedMs.toFixed(0)}ms (remove_after ${REMOVE_MS}ms)`);
    assert.ok(
      removedMs <= REMOVE_MS + 1500 && removedMs >= REMOVE_MS - REPORT_MS - 100,
      `removed after ${removedMs.toFixed(0)}ms; expected remove_after ${REMOVE_MS}ms (+1500ms)`,
    );
    assert.equal(await backendAt(r, KILLED), undefined, 'its backend is gone from /api/v1/backends');
    assert.equal((await agentNamed(r, 'survivor'))?.state, 'active', 'the other agent is untouched');
  });
});

describe('an agent stopped with SIGTERM', () => {
  const ADDRESS = '127.0.21.4';
  /** Far above the deregistration bound: only Goodbye can explain a removal within it. */
  const LONG_STALE_MS = 20_000;
  const GOODBYE_BOUND_MS = 1000;
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];
  let agent: RunningAgent | undefined;

  before(async () => {
    backends = await startBackends([ADDRESS]);
    run = await startOverwatch(`${LONG_STALE_MS}ms`, `${LONG_STALE_MS * 2}ms`);
    agent = agentFor(run, 'polite', backends[0] as TestBackend);
    await waitConnected(agent);
    await waitAnswers(run, NAME, [ADDRESS], 10_000);
  });

  after(async () => {
    await agent?.stop();
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  it(`says Goodbye and is deregistered within ${GOODBYE_BOUND_MS}ms, not after stale_threshold`, async (t) => {
    assert.ok(run && agent);
    const r = run;
    const stoppedAt = performance.now();
    agent.signal('SIGTERM');
    await waitFor(
      'polite gone from /api/v1/agents',
      async () => ((await agentNamed(r, 'polite')) === undefined ? true : undefined),
      GOODBYE_BOUND_MS + 4000,
      10,
    );
    const goneMs = performance.now() - stoppedAt;
    t.diagnostic(`deregistered ${goneMs.toFixed(0)}ms after SIGTERM (stale_threshold ${LONG_STALE_MS}ms)`);
    assert.ok(
      goneMs <= GOODBYE_BOUND_MS,
      `deregistered after ${goneMs.toFixed(0)}ms; bound ${GOODBYE_BOUND_MS}ms`,
    );
    assert.equal(await agent.exited, 0, `agent exit code; output:\n${agent.output()}`);
    assert.equal(await backendAt(r, ADDRESS), undefined, 'its backend left /api/v1/backends');
    assert.match(r.output(), /"agent":"polite"[^\n]*"msg":"agent said goodbye"/);
  });
});
