/**
 * Veto modes end to end (docs/decisions.md, "Veto modes"): one overwatch per mode, one real agent with two
 * backends. A passes everywhere; B's agent checks a separate always-OK health port (`health_check.port`) while
 * B's service port, the one DNS hands out and the overwatch probes, answers 500 from the moment the test flips
 * it. With one vantage point strict and balanced veto alike and permissive only records the disagreement; on a
 * killed agent strict takes everything out while balanced and permissive keep A in by external validation.
 * Addresses 127.0.40.x (strict), 127.0.41.x (balanced), 127.0.42.x (permissive).
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
import { agentNamed, backendAt, waitAnswers } from '../testkit/observe-agents.js';
import { waitEvent } from '../testkit/observe-decisions.js';
import { type RunningOpengslb, rcodeOf, startOpengslb } from '../testkit/opengslb.js';
import { metricSum } from '../testkit/prom-text.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const CHECK_MS = 300;
const VETO_THRESHOLD = 2;
/**
 * A failing streak of VETO_THRESHOLD rounds, plus the round already under way when B turns, plus the probe's
 * own deadline (one interval) and a loaded 2-core machine's scheduling.
 */
const VETO_BOUND_MS = (VETO_THRESHOLD + 2) * CHECK_MS + 700;
const STALE_MS = 1500;
/** Agents are swept once a second, so a stale verdict lands up to 1 s after the silence crosses the threshold. */
const SWEEP_MS = 1000;
const STALE_BOUND_MS = STALE_MS + SWEEP_MS + 1000;

type Mode = 'strict' | 'balanced' | 'permissive';

interface ModeCase {
  mode: Mode;
  /** The /24 this mode's backends live in. */
  net: string;
  /** What B's failing service port does to its decision. */
  vetoTitle: string;
  /** What a killed agent does to A and B. */
  staleTitle: string;
}

const CASES: ModeCase[] = [
  {
    mode: 'strict',
    net: '127.0.40',
    vetoTitle: 'vetoes B within veto_threshold rounds and takes it out of DNS (applied="true")',
    staleTitle: 'takes every backend of a killed agent out as stale, passing probes or not (SERVFAIL)',
  },
  {
    mode: 'balanced',
    net: '127.0.41',
    vetoTitle: 'vetoes B within veto_threshold rounds, like strict with one vantage point (applied="true")',
    staleTitle: "keeps a killed agent's passing backend A in by external validation; B stale and out",
  },
  {
    mode: 'permissive',
    net: '127.0.42',
    vetoTitle: 'never vetoes: B stays healthy and in DNS; a veto event and applied="false" record it',
    staleTitle: "keeps a killed agent's passing backend A in by external validation, as balanced",
  },
];

const vetoes = async (run: RunningOpengslb, mode: Mode, applied: 'true' | 'false'): Promise<number> =>
  metricSum(await run.metrics(), 'opengslb_overwatch_vetoes_total', { mode, applied }) ?? 0;

for (const c of CASES) {
  describe(`veto_mode ${c.mode}`, () => {
    const A = `${c.net}.2`;
    const B = `${c.net}.3`;
    const AGENT = `${c.mode}-agent`;
    let run: RunningOpengslb | undefined;
    let backends: TestBackend[] = [];
    let agent: RunningAgent | undefined;
    const ow = (): RunningOpengslb => {
      assert.ok(run, 'overwatch started');
      return run;
    };
    const backendB = (): TestBackend => {
      const b = backends[1];
      assert.ok(b, 'backend B started');
      return b;
    };

    before(async () => {
      // A and B on one service port; B's local health port on its own server, always 200.
      const service = await startBackends([A, B]);
      const healthB = await startBackends([B]);
      backends = [...service, ...healthB];
      const port = service[0]?.port ?? 0;
      run = await startOpengslb({
        config: (ports) =>
          gslbConfig(ports, {
            regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
            domains: [{ name: NAME, regions: ['r'], max_records: 4 }],
            cluster: {
              overwatch: agentPolicy(
                { [NAME]: TOKEN },
                {
                  veto_mode: c.mode,
                  veto_threshold: VETO_THRESHOLD,
                  external_check_interval: `${CHECK_MS}ms`,
                  stale_threshold: `${STALE_MS}ms`,
                  remove_after: '60s',
                },
              ),
            },
          }),
      });
      agent = startAgent({
        config: {
          id: AGENT,
          region: 'r',
          overwatch: [`127.0.0.1:${run.ports.grpc}`],
          token: TOKEN,
          backends: [
            { service: NAME, address: A, port },
            {
              service: NAME,
              address: B,
              port,
              health_check: { ...FAST_AGENT_CHECK, port: healthB[0]?.port ?? 0 },
            },
          ],
        },
      });
      await waitConnected(agent);
      // Both serve while B's service port still answers 200: the veto below starts from a passing streak.
      await waitAnswers(run, NAME, [A, B], 10_000);
    });

    after(async () => {
      await agent?.stop();
      await run?.stop();
      await Promise.all(backends.map((b) => b.stop()));
    });

    it(`${c.mode} ${c.vetoTitle}`, async (t) => {
      const r = ow();
      const before = { applied: await vetoes(r, c.mode, 'true'), recorded: await vetoes(r, c.mode, 'false') };
      const since = performance.now();
      backendB().setStatus(500);

      if (c.mode === 'permissive') {
        const e = await waitEvent(
          r,
          `veto (disagreement) for ${B}`,
          (x) => x.source === 'veto' && x.backend.startsWith(`${B}:`),
          VETO_BOUND_MS + 3000,
        );
        const ms = performance.now() - since;
        t.diagnostic(`disagreement recorded ${ms.toFixed(0)}ms after B's port turned 500`);
        assert.ok(ms <= VETO_BOUND_MS, `recorded after ${ms.toFixed(0)}ms; bound ${VETO_BOUND_MS}ms`);
        assert.match(e.reason, /external validation disagrees with the agent/);
        assert.match(e.reason, /unexpected status 500/, `the event names the failure: ${e.reason}`);
        assert.equal(e.details['veto_mode'], 'permissive');
        const d = await backendAt(r, B);
        assert.equal(d?.status, 'healthy', `B stays healthy: ${JSON.stringify(d)}`);
        assert.equal(d?.effective_weight, d?.weight, 'at full weight');
        assert.match(d?.reason ?? '', /disagrees/);
        assert.deepEqual(await r.addresses(NAME), [A, B].sort(), 'B stays in the answers');
        await waitFor(
          'opengslb_overwatch_vetoes_total{mode="permissive",applied="false"} to increase',
          async () => ((await vetoes(r, c.mode, 'false')) > before.recorded ? true : undefined),
          2000,
        );
        assert.equal(await vetoes(r, c.mode, 'true'), before.applied, 'nothing was applied');
        return;
      }

      await waitFor(
        `${B} vetoed`,
        async () => {
          const d = await backendAt(r, B);
          if (d?.status !== 'vetoed') throw new Error(`B is ${d?.status}: ${d?.reason}`);
          return true;
        },
        VETO_BOUND_MS + 3000,
        10,
      );
      const ms = performance.now() - since;
      t.diagnostic(`vetoed ${ms.toFixed(0)}ms after B's port turned 500 (${VETO_THRESHOLD} x ${CHECK_MS}ms)`);
      assert.ok(ms <= VETO_BOUND_MS, `vetoed after ${ms.toFixed(0)}ms; bound ${VETO_BOUND_MS}ms`);
      // No waiting: a decision is in the answers as soon as REST shows it.
      assert.deepEqual(await r.addresses(NAME), [A], 'B left the answers');
      const d = await backendAt(r, B);
      assert.equal(d?.source, 'veto');
      assert.equal(d?.effective_weight, 0);
      assert.match(
        d?.reason ?? '',
        c.mode === 'strict'
          ? /^external validation failing 2\+ rounds/
          : /^majority of vantage points failing/,
      );
      const claims = (await agentNamed(r, AGENT))?.backends.find((x) => x.address === B);
      assert.equal(claims?.healthy, true, 'the agent still claims B healthy: the veto overrules it');
      const e = await waitEvent(
        r,
        `${B} -> vetoed`,
        (x) => x.backend.startsWith(`${B}:`) && x.to === 'vetoed',
        1000,
      );
      assert.equal(e.source, 'veto');
      assert.equal(e.from, 'healthy');
      assert.ok(
        (await vetoes(r, c.mode, 'true')) > before.applied,
        `vetoes_total{mode="${c.mode}",applied="true"}`,
      );
      assert.equal((await backendAt(r, A))?.status, 'healthy', 'A is untouched');
    });

    it(`${c.mode} ${c.staleTitle}`, async (t) => {
      assert.ok(agent);
      const r = ow();
      const since = performance.now();
      agent.signal('SIGKILL');
      assert.equal(await agent.exited, 'SIGKILL');
      await waitFor(
        `${B} stale`,
        async () => {
          const d = await backendAt(r, B);
          if (d?.status !== 'stale') throw new Error(`B is ${d?.status}: ${d?.reason}`);
          return true;
        },
        STALE_BOUND_MS + 3000,
      );
      const ms = performance.now() - since;
      t.diagnostic(`B stale ${ms.toFixed(0)}ms after the kill (stale_threshold ${STALE_MS}ms)`);
      assert.ok(ms <= STALE_BOUND_MS, `stale after ${ms.toFixed(0)}ms; bound ${STALE_BOUND_MS}ms`);
      // B's service port still fails, so no mode may keep it in.
      assert.match((await backendAt(r, B))?.reason ?? '', new RegExp(`agent ${AGENT} stale`));

      const a = await backendAt(r, A);
      if (c.mode === 'strict') {
        assert.equal(a?.status, 'stale', `strict: A out although its probes pass: ${JSON.stringify(a)}`);
        assert.equal(a?.source, 'stale');
        const res = await r.udp(NAME, 'A');
        assert.equal(rcodeOf(res), 'SERVFAIL', 'no backend serves');
      } else {
        assert.equal(a?.status, 'healthy', `${c.mode}: external rescue of A: ${JSON.stringify(a)}`);
        assert.equal(a?.source, 'external');
        assert.match(
          a?.reason ?? '',
          new RegExp(`agent ${AGENT} stale; kept in service by external validation`),
        );
        assert.deepEqual(await r.addresses(NAME), [A], 'A served by external rescue, B out');
      }
    });
  });
}
