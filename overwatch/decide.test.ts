import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OverrideAction } from '../internal/gen/opengslb/v1/admin_pb.js';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import {
  type AgentView,
  type BackendView,
  type DecideConfig,
  decide,
  type SignalState,
  type VantageView,
  type VetoMode,
} from './decide.js';
import { command, createFsm, type Decision, type Fsm, idKey } from './fsm.js';
import { timestampFromDate } from './proto-convert.js';

const T0 = Date.UTC(2026, 0, 1);
const SVC = 'app.example.com';
/** cpu and memory bleed over a minute, error_rate over 20 s: a slow start must use the duration it recovers from. */
const D_CPU = 60_000;
const D_ERR = 20_000;
/** How often the tests run decide(), ms (the leader may run it on every observation). */
const TICK = 100;

function config(over: Partial<DecideConfig> = {}): DecideConfig {
  return {
    vetoMode: 'balanced',
    vetoThreshold: 3,
    panicThreshold: 0.5,
    predictive: {
      enabled: true,
      bleedDurationMs: { cpu: D_CPU, memory: D_CPU, error_rate: D_ERR },
      warningRate: 0.5,
    },
    ...over,
  };
}

const pass = (vantage: string, rounds = 5): VantageView => ({
  vantage,
  consecutiveFailures: 0,
  consecutiveSuccesses: rounds,
  lastOk: true,
  lastError: '',
});
const fail = (vantage: string, rounds = 3, err = 'connect ECONNREFUSED'): VantageView => ({
  vantage,
  consecutiveFailures: rounds,
  consecutiveSuccesses: 0,
  lastOk: false,
  lastError: err,
});
const signal = (name: string, state: SignalState, value = 95) => ({
  signal: name,
  state,
  value,
  threshold: 90,
});

function agent(over: Partial<AgentView> = {}): AgentView {
  return { id: 'a1', state: 'active', claimHealthy: true, claimError: '', signals: [], ...over };
}

function view(address: string, over: Partial<BackendView> = {}): BackendView {
  return {
    service: SVC,
    address,
    port: 80,
    weight: 100,
    successThreshold: 2,
    agent: agent(),
    external: [pass('ow1')],
    ...over,
  };
}
const A = '10.0.0.1';
const B = '10.0.0.2';
const C = '10.0.0.3';
const ref = (address: string) => ({ service: SVC, address, port: 80 });

function override(address: string, action: OverrideAction, expiresMs?: number): Command {
  return command(T0, {
    case: 'setOverride',
    value: {
      override: {
        backend: ref(address),
        action,
        reason: 'maintenance',
        user: 'alice',
        created: timestampFromDate(new Date(T0)),
        ...(expiresMs === undefined ? {} : { expires: timestampFromDate(new Date(expiresMs)) }),
      },
    },
  });
}

/** `status fraction source`: what a row expects of a decision. */
const verdict = (d: Decision | undefined): string =>
  d === undefined ? 'none' : `${d.status} ${d.weightFraction} ${d.source}`;
const kinds = (cmds: readonly Command[]) => cmds.map((c) => c.command.case ?? 'none');
const setBackends = (cmds: readonly Command[]) => cmds.filter((c) => c.command.case === 'setBackend');
const eventsFrom = (cmds: readonly Command[], source: string) =>
  cmds.filter((c) => c.command.case === 'appendEvent' && c.command.value.event?.source === source);

/** A leader: a state machine that applies every command decide() returns, and a manual clock. */
interface Leader {
  fsm: Fsm;
  now(): number;
  /** Runs decide() once at the current time and applies its commands. */
  step(cfg: DecideConfig, views: readonly BackendView[]): Command[];
  /** Runs decide() every TICK ms until `untilMs` (inclusive); returns every command it applied. */
  runUntil(cfg: DecideConfig, views: readonly BackendView[], untilMs: number, each?: () => void): Command[];
  decision(address: string): Decision | undefined;
}

function leader(startMs = T0, fsm: Fsm = createFsm()): Leader {
  let now = startMs;
  const step = (cfg: DecideConfig, views: readonly BackendView[]) => {
    const cmds = decide(cfg, views, fsm.state(), now);
    for (const c of cmds) fsm.apply(c);
    return cmds;
  };
  return {
    fsm,
    now: () => now,
    step,
    runUntil(cfg, views, untilMs, each) {
      const all: Command[] = [];
      while (now + TICK <= untilMs) {
        now += TICK;
        all.push(...step(cfg, views));
        each?.();
      }
      return all;
    },
    decision: (address) => fsm.state().decisions.get(idKey(ref(address))),
  };
}

/** Steps once, then checks that the same inputs against the updated state emit nothing (hysteresis). */
function stepSettled(l: Leader, cfg: DecideConfig, views: readonly BackendView[]): Command[] {
  const first = l.step(cfg, views);
  assert.deepEqual(kinds(l.step(cfg, views)), [], 'a second decide() with the same inputs emits nothing');
  return first;
}

describe('decide: authority order', () => {
  interface Case {
    name: string;
    cfg?: Partial<DecideConfig>;
    override?: OverrideAction;
    view: BackendView;
    want: string;
    reason?: RegExp;
    details?: Record<string, string>;
  }
  const bleeding = agent({ signals: [signal('cpu', 'bleed')] });
  const cases: Case[] = [
    {
      name: 'override force_healthy beats a failing agent',
      override: OverrideAction.FORCE_HEALTHY,
      view: view(A, { agent: agent({ claimHealthy: false, claimError: 'disk full' }) }),
      want: 'healthy 1 override',
      reason: /^override force_healthy by alice: maintenance$/,
    },
    {
      name: 'override force_healthy beats a veto',
      cfg: { vetoMode: 'strict' },
      override: OverrideAction.FORCE_HEALTHY,
      view: view(A, { external: [fail('ow1', 10)] }),
      want: 'healthy 1 override',
    },
    {
      name: 'override force_unhealthy beats a healthy agent and passing validation',
      override: OverrideAction.FORCE_UNHEALTHY,
      view: view(A),
      want: 'unhealthy 0 override',
      reason: /force_unhealthy by alice/,
    },
    {
      name: 'override drain takes the weight to 0',
      override: OverrideAction.DRAIN,
      view: view(A, { agent: bleeding }),
      want: 'draining 0 override',
    },
    {
      name: 'override applies to a static backend too',
      override: OverrideAction.FORCE_UNHEALTHY,
      view: view(A, { agent: undefined }),
      want: 'unhealthy 0 override',
    },
    {
      name: 'veto beats the agent claiming healthy',
      view: view(A, { external: [fail('ow1')] }),
      want: 'vetoed 0 veto',
      reason: /ow1: connect ECONNREFUSED/,
    },
    {
      name: 'veto beats predictive bleed',
      view: view(A, { agent: bleeding, external: [fail('ow1')] }),
      want: 'vetoed 0 veto',
    },
    {
      name: 'agent unhealthy is respected although external validation passes',
      view: view(A, { agent: agent({ claimHealthy: false, claimError: 'disk full' }) }),
      want: 'unhealthy 0 agent',
      reason: /^agent a1 reports unhealthy: disk full$/,
    },
    {
      name: 'agent unhealthy with failing validation is the agent verdict (a veto contradicts a healthy claim only)',
      cfg: { vetoMode: 'strict' },
      view: view(A, { agent: agent({ claimHealthy: false }), external: [fail('ow1')] }),
      want: 'unhealthy 0 agent',
    },
    {
      name: 'agent unhealthy beats predictive bleed',
      view: view(A, { agent: agent({ claimHealthy: false, signals: [signal('cpu', 'bleed')] }) }),
      want: 'unhealthy 0 agent',
    },
    {
      name: 'predictive bleed beats the healthy claim (the ramp starts at full weight)',
      view: view(A, { agent: bleeding }),
      want: 'healthy 1 predictive',
      reason: /^predictive bleed: cpu >= 90%$/,
      details: { ramp: 'down', ramp_rate: '1', ramp_duration_ms: String(D_CPU) },
    },
    {
      name: 'predictive warning bleeds at warningRate',
      view: view(A, { agent: agent({ signals: [signal('memory', 'warning', 80)] }) }),
      want: 'healthy 1 predictive',
      reason: /^predictive warning: memory trending to 90%$/,
      details: { ramp: 'down', ramp_rate: '0.5', ramp_duration_ms: String(D_CPU) },
    },
    {
      name: 'warnings do not bleed when warningRate is 0',
      cfg: { predictive: { ...config().predictive, warningRate: 0 } },
      view: view(A, { agent: agent({ signals: [signal('memory', 'warning', 80)] }) }),
      want: 'healthy 1 agent',
    },
    {
      name: 'predictive health disabled ignores signals',
      cfg: { predictive: { ...config().predictive, enabled: false } },
      view: view(A, { agent: bleeding }),
      want: 'healthy 1 agent',
    },
    {
      name: 'the shortest bleed duration of the bleeding signals wins',
      view: view(A, {
        agent: agent({ signals: [signal('cpu', 'bleed'), signal('error_rate', 'bleed', 12)] }),
      }),
      want: 'healthy 1 predictive',
      details: { ramp: 'down', ramp_rate: '1', ramp_duration_ms: String(D_ERR) },
    },
    {
      name: 'agent claims healthy',
      view: view(A),
      want: 'healthy 1 agent',
      reason: /^agent a1 reports healthy$/,
    },
    {
      name: 'a failing streak below veto_threshold does not veto',
      cfg: { vetoMode: 'strict' },
      view: view(A, { external: [fail('ow1', 2)] }),
      want: 'healthy 1 agent',
    },
    {
      name: 'no validation yet: the agent claim stands',
      cfg: { vetoMode: 'strict' },
      view: view(A, { external: [] }),
      want: 'healthy 1 agent',
    },
    {
      name: 'an agent that has not reported on the backend yet',
      view: view(A, { agent: agent({ claimHealthy: undefined }) }),
      want: 'unknown 0 agent',
    },
    {
      name: 'static backend: own check passing',
      view: view(A, { agent: undefined }),
      want: 'healthy 1 external',
    },
    {
      name: 'static backend: own check failing',
      view: view(A, { agent: undefined, external: [fail('ow1', 1)] }),
      want: 'unhealthy 0 external',
      reason: /^health check failing: connect ECONNREFUSED$/,
    },
    {
      name: 'static backend: not checked yet',
      view: view(A, { agent: undefined, external: [] }),
      want: 'unknown 0 external',
    },
    {
      name: 'static backend: the majority of vantage points decides',
      view: view(A, { agent: undefined, external: [pass('ow1'), pass('ow2'), fail('ow3')] }),
      want: 'healthy 1 external',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const l = leader();
      if (c.override !== undefined) l.fsm.apply(override(A, c.override));
      const cmds = stepSettled(l, config(c.cfg), [c.view]);
      assert.deepEqual(kinds(cmds), ['setBackend']);
      const d = l.decision(A);
      assert.equal(verdict(d), c.want, `decision reason: ${d?.reason}`);
      if (c.reason !== undefined) assert.match(d?.reason ?? '', c.reason);
      if (c.details !== undefined) {
        const got = Object.fromEntries(Object.keys(c.details).map((k) => [k, d?.details[k]]));
        assert.deepEqual(got, c.details, 'decision details');
      }
    });
  }

  it('an expired override is cleared by a command with reason "expired"; apply never reads the clock', () => {
    const l = leader();
    const cfg = config();
    l.fsm.apply(override(A, OverrideAction.FORCE_UNHEALTHY, T0 + 1000));
    l.runUntil(cfg, [view(A)], T0 + 900);
    assert.equal(verdict(l.decision(A)), 'unhealthy 0 override', 'before expiry');
    assert.equal(l.fsm.state().overrides.size, 1);

    // Not applied: the override stays in the state, and the next round proposes the clear again.
    const pending = decide(cfg, [view(A)], l.fsm.state(), T0 + 1000);
    assert.deepEqual(kinds(pending), ['clearOverride', 'setBackend']);
    assert.deepEqual(kinds(decide(cfg, [view(A)], l.fsm.state(), T0 + 1000)), kinds(pending));
    const clear = pending[0]?.command;
    assert.equal(clear?.case, 'clearOverride');
    assert.deepEqual(
      clear?.case === 'clearOverride' ? { user: clear.value.user, reason: clear.value.reason } : undefined,
      { user: 'system', reason: 'expired' },
    );

    for (const c of pending) l.fsm.apply(c);
    assert.equal(l.fsm.state().overrides.size, 0);
    assert.equal(verdict(l.decision(A)), 'healthy 1 agent');
    assert.ok(
      l.fsm.state().events.some((e) => e.source === 'override' && e.reason === 'override expired'),
      'an "override expired" event',
    );
    assert.deepEqual(kinds(decide(cfg, [view(A)], l.fsm.state(), T0 + 1000)), []);
  });

  it('an override without expiry holds until cleared', () => {
    const l = leader();
    l.fsm.apply(override(A, OverrideAction.DRAIN));
    assert.equal(l.runUntil(config(), [view(A)], T0 + 3_600_000).length, 1, 'one write in an hour');
    assert.equal(verdict(l.decision(A)), 'draining 0 override');
  });

  it('a decision whose backend left the configuration is removed once', () => {
    const l = leader();
    const cfg = config();
    stepSettled(l, cfg, [view(A), view(B)]);
    assert.deepEqual(kinds(stepSettled(l, cfg, [view(A)])), ['removeBackend']);
    assert.deepEqual([...l.fsm.state().decisions.keys()], [idKey(ref(A))]);
  });
});

describe('decide: veto modes', () => {
  const observations: Record<string, VantageView[]> = {
    'one of three vantage points failing': [fail('ow1'), pass('ow2'), pass('ow3')],
    'one of two vantage points failing': [fail('ow1'), pass('ow2')],
    'two of three vantage points failing': [fail('ow1'), fail('ow2'), pass('ow3')],
    'the only vantage point failing': [fail('ow1')],
    'one of three failing below veto_threshold': [fail('ow1', 2), pass('ow2'), pass('ow3')],
  };
  const want: Record<string, Record<VetoMode, string>> = {
    'one of three vantage points failing': {
      strict: 'vetoed 0 veto',
      balanced: 'healthy 0.6 veto',
      permissive: 'healthy 1 agent',
    },
    'one of two vantage points failing': {
      strict: 'vetoed 0 veto',
      balanced: 'healthy 0.5 veto',
      permissive: 'healthy 1 agent',
    },
    'two of three vantage points failing': {
      strict: 'vetoed 0 veto',
      balanced: 'vetoed 0 veto',
      permissive: 'healthy 1 agent',
    },
    'the only vantage point failing': {
      strict: 'vetoed 0 veto',
      balanced: 'vetoed 0 veto',
      permissive: 'healthy 1 agent',
    },
    'one of three failing below veto_threshold': {
      strict: 'healthy 1 agent',
      balanced: 'healthy 1 agent',
      permissive: 'healthy 1 agent',
    },
  };
  const modes: VetoMode[] = ['strict', 'balanced', 'permissive'];
  for (const [obs, external] of Object.entries(observations)) {
    for (const mode of modes) {
      it(`${mode}: ${obs}`, () => {
        const l = leader();
        stepSettled(l, config({ vetoMode: mode }), [view(A, { external })]);
        const d = l.decision(A);
        assert.equal(verdict(d), want[obs]?.[mode], `decision reason: ${d?.reason}`);
        if (mode === 'permissive' && external.some((v) => v.consecutiveFailures >= 3)) {
          assert.match(
            d?.reason ?? '',
            /external validation disagrees with the agent: failing 3\+ rounds \(ow1: connect ECONNREFUSED[;)]/,
          );
        }
      });
    }
  }

  it('the three modes give three different outcomes for the same observations', () => {
    const external = observations['one of three vantage points failing'] ?? [];
    const outcomes = modes.map((mode) => {
      const l = leader();
      l.step(config({ vetoMode: mode }), [view(A, { external })]);
      return verdict(l.decision(A));
    });
    assert.equal(new Set(outcomes).size, 3, `outcomes: ${outcomes.join(' | ')}`);
  });

  it('balanced: a minority only reduces the weight, and the audit trail records it', () => {
    const l = leader();
    const cfg = config();
    stepSettled(l, cfg, [view(A)]);
    stepSettled(l, cfg, [view(A, { external: [fail('ow1'), pass('ow2'), pass('ow3')] })]);
    const e = l.fsm.state().events.at(-1);
    assert.deepEqual(
      { from: e?.from, to: e?.to, source: e?.source, weight: e?.details['weight_fraction'] },
      { from: 'healthy', to: 'healthy', source: 'veto', weight: '0.60' },
    );
    assert.match(e?.reason ?? '', /minority of vantage points failing/);
  });

  it('permissive: a disagreement is an event once, and nothing is written while it lasts', () => {
    const l = leader();
    const cfg = config({ vetoMode: 'permissive' });
    stepSettled(l, cfg, [view(A)]);
    const start = stepSettled(l, cfg, [view(A, { external: [fail('ow1')] })]);
    assert.equal(eventsFrom(start, 'veto').length, 1, `commands: ${kinds(start).join(', ')}`);
    const e = l.fsm.state().events.at(-1);
    assert.deepEqual(
      { source: e?.source, mode: e?.details['veto_mode'] },
      { source: 'veto', mode: 'permissive' },
    );
    assert.match(e?.reason ?? '', /disagrees/);
    for (const rounds of [4, 5, 20]) {
      assert.deepEqual(kinds(l.step(cfg, [view(A, { external: [fail('ow1', rounds)] })])), [], `x${rounds}`);
    }
    assert.deepEqual(kinds(stepSettled(l, cfg, [view(A)])), ['setBackend'], 'agreement again');
    assert.equal(l.decision(A)?.reason, 'agent a1 reports healthy');
    assert.equal(eventsFrom(stepSettled(l, cfg, [view(A, { external: [fail('ow1')] })]), 'veto').length, 1);
  });

  it('balanced: a partial veto is stable while it lasts and lifts at once (no slow start)', () => {
    const l = leader();
    const cfg = config();
    const minority = (rounds: number) => [
      view(A, { external: [fail('ow1', rounds), pass('ow2'), pass('ow3')] }),
    ];
    assert.deepEqual(kinds(l.step(cfg, minority(3))), ['setBackend']);
    for (const rounds of [4, 5, 9]) assert.deepEqual(kinds(l.step(cfg, minority(rounds))), [], `x${rounds}`);
    assert.deepEqual(
      kinds(stepSettled(l, cfg, [view(A, { external: [pass('ow1', 1), pass('ow2'), pass('ow3')] })])),
      ['setBackend'],
    );
    assert.equal(verdict(l.decision(A)), 'healthy 1 agent');
  });

  it('balanced: a partial veto caps a bleed only where it is lower', () => {
    const l = leader();
    const cfg = config({ panicThreshold: 0 });
    const views = [
      view(A, { agent: agent({ signals: [signal('cpu', 'bleed')] }), external: [fail('ow1'), pass('ow2')] }),
    ];
    l.step(cfg, views);
    assert.equal(verdict(l.decision(A)), 'healthy 0.5 veto', 'cap 0.5 below the ramp at 1');
    l.runUntil(cfg, views, T0 + 36_000);
    assert.equal(verdict(l.decision(A)), 'healthy 0.4 predictive', 'the ramp went below the cap');
  });

  it('a growing failure streak does not rewrite a veto', () => {
    for (const mode of ['strict', 'balanced'] as const) {
      const l = leader();
      const cfg = config({ vetoMode: mode });
      assert.deepEqual(kinds(l.step(cfg, [view(A, { external: [fail('ow1', 3)] })])), ['setBackend']);
      for (const rounds of [4, 5, 6, 50]) {
        const cmds = l.step(cfg, [view(A, { external: [fail('ow1', rounds)] })]);
        assert.deepEqual(kinds(cmds), [], `${mode}: failure streak ${rounds}`);
      }
    }
  });

  it('strict: a veto lifts only when every vantage point passed success_threshold rounds', () => {
    const l = leader();
    const cfg = config({ vetoMode: 'strict' });
    const rounds: Array<{ external: VantageView[]; want: string }> = [
      { external: [fail('ow1'), pass('ow2')], want: 'vetoed 0 veto' },
      { external: [pass('ow1', 1), pass('ow2')], want: 'vetoed 0 veto' },
      { external: [pass('ow1', 2), pass('ow2', 1)], want: 'vetoed 0 veto' },
      { external: [pass('ow1', 3), pass('ow2', 2)], want: 'healthy 1 agent' },
    ];
    for (const [i, r] of rounds.entries()) {
      stepSettled(l, cfg, [view(A, { external: r.external })]);
      assert.equal(verdict(l.decision(A)), r.want, `round ${i}: ${l.decision(A)?.reason}`);
    }
  });

  it('balanced: a veto lifts when a majority of vantage points passed success_threshold rounds', () => {
    const l = leader();
    const cfg = config();
    const rounds: Array<{ external: VantageView[]; want: string }> = [
      { external: [fail('ow1'), fail('ow2'), pass('ow3')], want: 'vetoed 0 veto' },
      { external: [pass('ow1', 1), pass('ow2', 1), pass('ow3')], want: 'vetoed 0 veto' },
      { external: [pass('ow1', 2), pass('ow2', 1), pass('ow3')], want: 'healthy 1 agent' },
    ];
    for (const [i, r] of rounds.entries()) {
      stepSettled(l, cfg, [view(A, { external: r.external })]);
      assert.equal(verdict(l.decision(A)), r.want, `round ${i}: ${l.decision(A)?.reason}`);
    }
  });

  it('balanced with one vantage point uses that one, with success_threshold to return', () => {
    const l = leader();
    const cfg = config();
    const rounds: Array<{ external: VantageView[]; want: string }> = [
      { external: [fail('ow1', 2)], want: 'healthy 1 agent' },
      { external: [fail('ow1', 3)], want: 'vetoed 0 veto' },
      { external: [pass('ow1', 1)], want: 'vetoed 0 veto' },
      { external: [pass('ow1', 2)], want: 'healthy 1 agent' },
    ];
    for (const [i, r] of rounds.entries()) {
      stepSettled(l, cfg, [view(A, { external: r.external })]);
      assert.equal(verdict(l.decision(A)), r.want, `round ${i}: ${l.decision(A)?.reason}`);
    }
  });
});

describe('decide: purity', () => {
  it('reads but never changes the state machine state', () => {
    const l = leader();
    const cfg = config();
    l.fsm.apply(override(C, OverrideAction.DRAIN, T0 + 10));
    const views = [view(A, { agent: agent({ signals: [signal('cpu', 'bleed')] }) }), view(B), view(C)];
    l.step(cfg, views);
    l.runUntil(cfg, views, T0 + 20_000);
    const before = structuredClone(l.fsm.state());
    decide(cfg, [view(A), view(B, { external: [fail('ow1')] })], l.fsm.state(), T0 + 90_000);
    assert.deepEqual(l.fsm.state(), before);
  });

  // DESIGN/STYLE: no ambient time or randomness in the engine or the state machine; time is an argument.
  for (const file of ['decide.js', 'decide-ramp.js', 'fsm.js']) {
    it(`${file} reads no clock and no randomness`, () => {
      const src = readFileSync(new URL(`./${file}`, import.meta.url), 'utf8');
      const found = src.match(
        /Date\.now|performance\.now|Math\.random|setTimeout|setInterval|new Date\(\)|crypto\./g,
      );
      assert.deepEqual(found ?? [], [], `ambient time/randomness in ${file}`);
    });
  }
});

describe('decide: stale agents', () => {
  const cases: Array<{ mode: VetoMode; external: VantageView[]; want: string }> = [
    { mode: 'strict', external: [pass('ow1')], want: 'stale 0 stale' },
    { mode: 'strict', external: [fail('ow1')], want: 'stale 0 stale' },
    { mode: 'balanced', external: [pass('ow1')], want: 'healthy 1 external' },
    { mode: 'balanced', external: [pass('ow1'), pass('ow2'), fail('ow3')], want: 'healthy 1 external' },
    { mode: 'balanced', external: [fail('ow1', 1)], want: 'stale 0 stale' },
    { mode: 'balanced', external: [], want: 'stale 0 stale' },
    { mode: 'permissive', external: [pass('ow1')], want: 'healthy 1 external' },
    { mode: 'permissive', external: [fail('ow1', 1)], want: 'stale 0 stale' },
  ];
  for (const c of cases) {
    const obs = c.external.map((v) => (v.lastOk ? 'pass' : 'fail')).join('/') || 'no validation';
    it(`${c.mode}, external ${obs} -> ${c.want}`, () => {
      const l = leader();
      const stale = agent({ state: 'stale', signals: [signal('cpu', 'bleed')] });
      stepSettled(l, config({ vetoMode: c.mode }), [view(A, { agent: stale, external: c.external })]);
      const d = l.decision(A);
      assert.equal(verdict(d), c.want, `decision reason: ${d?.reason}`);
      if (c.want.startsWith('healthy')) assert.match(d?.reason ?? '', /stale; kept in service by external/);
    });
  }

  it('external rescue ends when external validation fails too', () => {
    const l = leader();
    const stale = agent({ state: 'stale' });
    stepSettled(l, config(), [view(A, { agent: stale })]);
    assert.equal(verdict(l.decision(A)), 'healthy 1 external');
    stepSettled(l, config(), [view(A, { agent: stale, external: [fail('ow1', 1)] })]);
    assert.equal(verdict(l.decision(A)), 'stale 0 stale');
  });

  it('a pending agent (not reconnected since restart) keeps its last decision and writes nothing', () => {
    const l = leader();
    const cfg = config();
    const bleeding = agent({ signals: [signal('cpu', 'bleed')] });
    l.step(cfg, [view(A, { agent: bleeding })]);
    l.runUntil(cfg, [view(A, { agent: bleeding })], T0 + 20_000);
    const before = l.decision(A);
    const pending = agent({ state: 'pending', claimHealthy: undefined });
    assert.deepEqual(kinds(l.runUntil(cfg, [view(A, { agent: pending })], T0 + 40_000)), []);
    assert.deepEqual(l.decision(A), before);
  });

  it('an agent back after a restart keeps the last decisions until its first report', () => {
    const l = leader();
    const cfg = config();
    const vetoed = view(B, { external: [fail('ow1', 3)] });
    stepSettled(l, cfg, [view(A), vetoed]);
    const before = [l.decision(A), l.decision(B)];
    assert.deepEqual(before.map(verdict), ['healthy 1 agent', 'vetoed 0 veto']);
    // Hello accepted (active), no report yet; B's new vantage view has not reached the threshold again.
    const silent = agent({ claimHealthy: undefined });
    const back = [view(A, { agent: silent }), view(B, { agent: silent, external: [fail('ow1', 1)] })];
    assert.deepEqual(kinds(l.step(cfg, back)), []);
    assert.deepEqual([l.decision(A), l.decision(B)], before);
  });

  it('a pending agent without a decision is unknown', () => {
    const l = leader();
    stepSettled(l, config(), [view(A, { agent: agent({ state: 'pending', claimHealthy: undefined }) })]);
    assert.equal(verdict(l.decision(A)), 'unknown 0 agent');
  });
});

describe('decide: predictive ramps (manual clock)', () => {
  // One backend is the whole service here: no panic threshold, or it would hold the bleed at half weight.
  const cfg = config({ panicThreshold: 0 });
  const bleedCpu = (value = 95) => [view(A, { agent: agent({ signals: [signal('cpu', 'bleed', value)] }) })];
  const warnCpu = [view(A, { agent: agent({ signals: [signal('cpu', 'warning', 85)] }) })];
  const calm = [view(A)];

  /** Runs `views` until `untilMs`, recording A's fraction at each checkpoint (ms after `from`). */
  function trace(l: Leader, views: readonly BackendView[], from: number, checkpoints: readonly number[]) {
    const got: Record<number, number | undefined> = {};
    const at = new Set(checkpoints.map((c) => from + c));
    const record = () => {
      if (at.has(l.now())) got[l.now() - from] = l.decision(A)?.weightFraction;
    };
    record();
    const cmds = l.runUntil(cfg, views, from + Math.max(...checkpoints), record);
    return { got, cmds };
  }
  const expect = (pairs: Array<[number, number]>) => Object.fromEntries(pairs) as Record<number, number>;

  it('bleed: 1 -> 0 in 10% steps over bleed_duration, at most 11 writes at a 100 ms tick', () => {
    const l = leader();
    const start = l.step(cfg, bleedCpu());
    assert.deepEqual(kinds(start), ['setBackend'], 'the ramp start is written at once');
    const want: Array<[number, number]> = [
      [0, 1],
      [5_900, 1],
      [6_000, 0.9],
      [12_000, 0.8],
      [30_000, 0.5],
      [45_000, 0.3],
      [59_900, 0.1],
      [60_000, 0],
      [70_000, 0],
    ];
    const { got, cmds } = trace(
      l,
      bleedCpu(),
      T0,
      want.map(([t]) => t),
    );
    assert.deepEqual(got, expect(want), 'weight fraction by ms since the bleed began');
    const writes = [...start, ...setBackends(cmds)].map((c) =>
      c.command.case === 'setBackend' ? c.command.value.decision?.weightFraction : undefined,
    );
    assert.deepEqual(writes, [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0], 'one write per step');
  });

  it('bleed: changing readings of the same signal write nothing between steps', () => {
    const l = leader();
    l.step(cfg, bleedCpu(91));
    for (const value of [92.4, 97.1, 93.3]) {
      assert.deepEqual(kinds(l.step(cfg, bleedCpu(value))), [], `cpu ${value}%`);
    }
  });

  it('warning: ramps at warningRate (0.5: half way after one bleed_duration)', () => {
    const l = leader();
    l.step(cfg, warnCpu);
    const want: Array<[number, number]> = [
      [6_000, 1],
      [12_000, 0.9],
      [60_000, 0.5],
      [120_000, 0],
    ];
    const { got, cmds } = trace(
      l,
      warnCpu,
      T0,
      want.map(([t]) => t),
    );
    assert.deepEqual(got, expect(want));
    assert.equal(setBackends(cmds).length, 10);
  });

  it('warning turning into bleed continues from the reached weight at the full rate', () => {
    const l = leader();
    l.step(cfg, warnCpu);
    l.runUntil(cfg, warnCpu, T0 + 24_000);
    assert.equal(l.decision(A)?.weightFraction, 0.8);
    const t1 = l.now();
    l.step(cfg, bleedCpu());
    const want: Array<[number, number]> = [
      [5_900, 0.8],
      [6_000, 0.7],
      [48_000, 0],
    ];
    const { got } = trace(
      l,
      bleedCpu(),
      t1,
      want.map(([t]) => t),
    );
    assert.deepEqual(got, expect(want));
  });

  it('recovery: slow start back to 1 over the bleed duration of the signal that bled', () => {
    const l = leader();
    l.step(cfg, bleedCpu());
    l.runUntil(cfg, bleedCpu(), T0 + D_CPU);
    assert.equal(l.decision(A)?.weightFraction, 0);
    const t1 = l.now();
    const first = l.step(cfg, calm);
    assert.deepEqual(kinds(first), ['setBackend']);
    assert.match(l.decision(A)?.reason ?? '', /slow start/);
    const want: Array<[number, number]> = [
      [0, 0],
      [5_900, 0],
      [6_000, 0.1],
      [30_000, 0.5],
      [59_900, 0.9],
      [60_000, 1],
      [90_000, 1],
    ];
    const { got, cmds } = trace(
      l,
      calm,
      t1,
      want.map(([t]) => t),
    );
    assert.deepEqual(got, expect(want), 'weight fraction by ms since recovery');
    assert.equal(setBackends([...first, ...cmds]).length, 11, 'ramp start + 10 steps');
    const d = l.decision(A);
    assert.deepEqual(
      { verdict: verdict(d), ramp: d?.details['ramp'], reason: d?.reason },
      { verdict: 'healthy 1 agent', ramp: undefined, reason: 'agent a1 reports healthy' },
    );
  });

  it('recovery from a partial bleed starts from the reached weight', () => {
    const l = leader();
    const errBleed = [view(A, { agent: agent({ signals: [signal('error_rate', 'bleed', 12)] }) })];
    l.step(cfg, errBleed);
    l.runUntil(cfg, errBleed, T0 + D_ERR / 2);
    assert.equal(l.decision(A)?.weightFraction, 0.5);
    const t1 = l.now();
    l.step(cfg, calm);
    const want: Array<[number, number]> = [
      [0, 0.5],
      [D_ERR / 10, 0.6],
      [D_ERR / 2, 1],
    ];
    const { got } = trace(
      l,
      calm,
      t1,
      want.map(([t]) => t),
    );
    assert.deepEqual(got, expect(want));
  });

  it('a new leader (fresh state machine from a snapshot) continues the same ramp', () => {
    const checkpoints = [30_000, 36_000, 45_000, 60_000, 61_000];
    const whole = leader();
    whole.step(cfg, bleedCpu());
    whole.runUntil(cfg, bleedCpu(), T0 + 25_000);
    const follower = createFsm();
    follower.restore(whole.fsm.snapshot());
    const { got: uninterrupted } = trace(whole, bleedCpu(), T0, checkpoints);

    const successor = leader(T0 + 25_000, follower);
    assert.deepEqual(kinds(successor.step(cfg, bleedCpu())), [], 'taking over writes nothing');
    const { got } = trace(successor, bleedCpu(), T0, checkpoints);
    assert.deepEqual(got, uninterrupted);
    assert.deepEqual(
      got,
      expect([
        [30_000, 0.5],
        [36_000, 0.4],
        [45_000, 0.3],
        [60_000, 0],
        [61_000, 0],
      ]),
    );
  });
});

describe('decide: panic threshold', () => {
  const cfg = config();
  const bleeding = (address: string) =>
    view(address, { agent: agent({ signals: [signal('cpu', 'bleed')] }) });
  /** Effective share of the service's configured weight after the last applied command. */
  const share = (l: Leader, views: readonly BackendView[]) => {
    const total = views.reduce((s, v) => s + v.weight, 0);
    const served = views.reduce((s, v) => s + v.weight * (l.decision(v.address)?.weightFraction ?? 0), 0);
    return served / total;
  };

  it('two equal backends both bleeding: the bleed stops at 50% and one panic event is raised', () => {
    const l = leader();
    const views = [bleeding(A), bleeding(B)];
    const all = l.step(cfg, views);
    let lowest = 1;
    all.push(...l.runUntil(cfg, views, T0 + 2 * D_CPU, () => (lowest = Math.min(lowest, share(l, views)))));
    assert.equal(lowest, 0.5, 'lowest share of configured weight during the bleed');
    assert.deepEqual(
      [l.decision(A)?.weightFraction, l.decision(B)?.weightFraction],
      [0.5, 0.5],
      'held weight fractions',
    );
    const panic = eventsFrom(all, 'panic');
    assert.equal(panic.length, 1, 'panic events');
    const reason =
      panic[0]?.command.case === 'appendEvent' ? panic[0].command.value.event?.reason : undefined;
    assert.match(reason ?? '', /keeps 50% of its configured weight/);
    assert.equal(l.fsm.state().events.filter((e) => e.source === 'panic').length, 1);
    assert.match(l.decision(A)?.reason ?? '', /held at the panic threshold \(0\.5\)/);
    assert.deepEqual(kinds(l.runUntil(cfg, views, T0 + 4 * D_CPU)), [], 'a hold writes nothing');
  });

  it('recovery from a panic hold slow-starts from the held weight', () => {
    const l = leader();
    const views = [bleeding(A), bleeding(B)];
    l.step(cfg, views);
    l.runUntil(cfg, views, T0 + 2 * D_CPU);
    const calm = [view(A), view(B)];
    const t1 = l.now();
    const cmds = [...l.step(cfg, calm), ...l.runUntil(cfg, calm, t1 + D_CPU / 2)];
    assert.equal(eventsFrom(cmds, 'panic').length, 0);
    assert.deepEqual(
      [verdict(l.decision(A)), verdict(l.decision(B))],
      ['healthy 1 agent', 'healthy 1 agent'],
      'back to full weight after half the bleed duration (from 0.5)',
    );
    assert.equal(setBackends(cmds).length, 2 * 6, 'per backend: ramp start + 5 steps');
  });

  it('a veto is not capped: vetoes can take the service to 0', () => {
    const l = leader();
    const views = [view(A, { external: [fail('ow1')] }), view(B, { external: [fail('ow1')] })];
    const cmds = stepSettled(l, config({ vetoMode: 'strict' }), views);
    assert.deepEqual([verdict(l.decision(A)), verdict(l.decision(B))], ['vetoed 0 veto', 'vetoed 0 veto']);
    assert.equal(eventsFrom(cmds, 'panic').length, 0);
  });

  it('a veto and a bleed: the bleed is held, the veto is not', () => {
    const l = leader();
    const views = [view(A, { external: [fail('ow1')] }), bleeding(B)];
    const all = l.step(cfg, views);
    all.push(...l.runUntil(cfg, views, T0 + 2 * D_CPU));
    assert.deepEqual(
      [verdict(l.decision(A)), l.decision(B)?.weightFraction],
      ['vetoed 0 veto', 1],
      'A vetoed, B held at full weight',
    );
    assert.equal(eventsFrom(all, 'panic').length, 1);
  });

  it('one bleeding backend of three bleeds fully (the service stays above the floor)', () => {
    const l = leader();
    const views = [bleeding(A), view(B), view(C)];
    const all = l.step(cfg, views);
    all.push(...l.runUntil(cfg, views, T0 + D_CPU));
    assert.deepEqual(
      [A, B, C].map((x) => l.decision(x)?.weightFraction),
      [0, 1, 1],
    );
    assert.equal(eventsFrom(all, 'panic').length, 0);
  });

  it('a higher panic_threshold (0.8) holds earlier', () => {
    const l = leader();
    const high = config({ panicThreshold: 0.8 });
    const views = [bleeding(A), bleeding(B)];
    l.step(high, views);
    l.runUntil(high, views, T0 + 2 * D_CPU);
    assert.deepEqual([l.decision(A)?.weightFraction, l.decision(B)?.weightFraction], [0.8, 0.8]);
  });

  it('staggered bleeds: held at the floor, then the one recovering takes the weight the other gives up', () => {
    const l = leader();
    const views = [bleeding(A), bleeding(B)];
    let lowest = 1;
    const watch = () => (lowest = Math.min(lowest, share(l, views)));
    l.step(cfg, [bleeding(A), view(B)]);
    l.runUntil(cfg, [bleeding(A), view(B)], T0 + 48_000, watch);
    assert.equal(l.decision(A)?.weightFraction, 0.2, 'A bled alone to 0.2');
    const all = l.runUntil(cfg, views, T0 + 3 * D_CPU, watch);
    assert.deepEqual(
      [l.decision(A)?.weightFraction, l.decision(B)?.weightFraction],
      [0.1, 0.9],
      'held at exactly 50% of the configured weight',
    );
    assert.equal(eventsFrom(all, 'panic').length, 1);
    assert.deepEqual(kinds(l.runUntil(cfg, views, T0 + 4 * D_CPU)), [], 'a hold writes nothing');

    const recovering = [view(A), bleeding(B)];
    l.runUntil(cfg, recovering, T0 + 6 * D_CPU, watch);
    assert.equal(lowest, 0.5, 'lowest share of configured weight');
    assert.deepEqual(
      [verdict(l.decision(A)), verdict(l.decision(B))],
      ['healthy 1 agent', 'healthy 0 predictive'],
      'once A is back, B finishes its bleed',
    );
  });
});
