/**
 * The decision engine (DESIGN.md sections 4-5): a pure function from configuration, observations, the state
 * machine's current state and the time to the commands that change decisions. Run by the leader on every tick
 * and on every observation change; emits a command only when a decision changes (status, stepped weight,
 * source, reason or ramp), so the write rate is bounded by changes, not by how often agents report. Reasons
 * therefore name conditions, never counters or readings (a growing failure streak or a new CPU sample is not
 * a change).
 *
 * Authority, strongest first:
 *   1. operator override (until cleared or expired; expiry is a command the leader proposes)
 *   2. overwatch veto (external validation contradicts an agent that claims healthy; per veto mode)
 *   3. agent claim "unhealthy" (always respected; a veto only ever contradicts a healthy claim)
 *   4. predictive bleed (bleed: ramp to 0 over bleed_duration; warning: the same at a reduced rate;
 *      recovery: slow start back to full weight over the duration of the ramp it recovers from)
 *   5. agent claim "healthy"
 *   6. no agent: the overwatch's own checks
 * A stale agent's backend is out in `strict`; in `balanced`/`permissive` external validation keeps it in
 * ("external rescue") until remove_after. Bleeding never takes a service below `panic_threshold` of its
 * configured weight (the bleed is held there); vetoes and failures are not capped.
 */
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import type { BackendStatusName } from './backend-status.js';
import { formatTarget } from './backends.js';
import { RAMP_STEP, type Ramp, rampDetails, rampFraction, rampOf } from './decide-ramp.js';
import type { BackendView, DecideConfig } from './decide-types.js';
import { externalPassing, vetoVerdict } from './decide-veto.js';
import { command, type Decision, type FsmState, idKey, type OverrideRecord } from './fsm.js';
import { statusToWire, timestampFromDate } from './proto-convert.js';

/** `cluster.overwatch.veto_mode` (DESIGN.md section 5). */
export type {
  AgentView,
  BackendView,
  DecideConfig,
  SignalState,
  VantageView,
  VetoMode,
} from './decide-types.js';

interface Target {
  status: BackendStatusName;
  fraction: number;
  reason: string;
  source: string;
  ramp: Ramp | undefined;
  /** The fraction was lowered by predictive bleed (the only reduction the panic threshold may hold back). */
  bleeding: boolean;
  /** The highest fraction the panic hold may give back: a balanced-mode partial veto's cap, else 1. */
  ceiling: number;
  /** Held above its ramp by the panic threshold (the ramp keeps running underneath). */
  panic: boolean;
  /** Permissive mode: external validation disagrees with the agent's healthy claim. */
  disagree: boolean;
}

/** Signals whose bleed duration a slow start uses when there is no ramp to recover from (after a drain). */
const ALL_SIGNALS = ['cpu', 'memory', 'error_rate'];
const DEFAULT_BLEED_MS = 30_000;
const round = (x: number) => Math.round(x * 1000) / 1000;

function fixed(status: BackendStatusName, fraction: number, reason: string, source: string): Target {
  return {
    status,
    fraction,
    reason,
    source,
    ramp: undefined,
    bleeding: false,
    ceiling: 1,
    panic: false,
    disagree: false,
  };
}

function overrideTarget(o: OverrideRecord): Target {
  const reason = `override ${o.action} by ${o.user || 'an operator'}${o.reason === '' ? '' : `: ${o.reason}`}`;
  switch (o.action) {
    case 'force_healthy':
      return fixed('healthy', 1, reason, 'override');
    case 'force_unhealthy':
      return fixed('unhealthy', 0, reason, 'override');
    case 'drain':
      return fixed('draining', 0, reason, 'override');
  }
}

/** A pending agent's backend keeps its decision as written, flags and ramp included, so nothing is rewritten. */
function keep(prev: Decision): Target {
  return {
    ...fixed(prev.status, prev.weightFraction, prev.reason, prev.source),
    ramp: rampOf(prev),
    panic: prev.details['panic'] === 'true',
    disagree: prev.details['disagree'] === 'true',
  };
}

/**
 * The weight share predictive ramps have left a backend at: a panic-held decision its held weight (not where
 * the ramp underneath has got to), a ramp where it has got to, a drained backend its drained weight (so it
 * slow-starts back), anything else 1 (a partial veto's cap is derived afresh every round, not ramped).
 */
function predictiveFraction(prev: Decision | undefined, nowMs: number): number {
  if (prev === undefined) return 1;
  if (prev.details['panic'] === 'true') return prev.weightFraction;
  const r = rampOf(prev);
  if (r !== undefined) return rampFraction(r, nowMs);
  return prev.status === 'draining' ? prev.weightFraction : 1;
}

function predictiveRamp(
  b: BackendView,
  cfg: DecideConfig,
  prev: Decision | undefined,
  nowMs: number,
): { fraction: number; ramp: Ramp | undefined; reason: string | undefined } {
  const signals = cfg.predictive.enabled ? (b.agent?.signals ?? []) : [];
  const bleeding = signals.filter((s) => s.state === 'bleed');
  const warning = cfg.predictive.warningRate > 0 ? signals.filter((s) => s.state === 'warning') : [];
  const current = predictiveFraction(prev, nowMs);
  const existing = prev === undefined ? undefined : rampOf(prev);
  const durationOf = (names: readonly string[]) =>
    Math.min(...names.map((n) => cfg.predictive.bleedDurationMs[n] ?? DEFAULT_BLEED_MS));
  // Whole milliseconds: the start is stored as a timestamp, and a fraction of a ms would not compare equal.
  const startMs = Math.trunc(nowMs);
  let want: Ramp | undefined;
  let reason: string | undefined;
  if (bleeding.length > 0) {
    const durationMs = durationOf(bleeding.map((s) => s.signal));
    want = { startMs, from: current, direction: -1, durationMs, rate: 1 };
    reason = `predictive bleed: ${bleeding.map((s) => `${s.signal} >= ${s.threshold}%`).join(', ')}`;
  } else if (warning.length > 0) {
    const durationMs = durationOf(warning.map((s) => s.signal));
    want = { startMs, from: current, direction: -1, durationMs, rate: cfg.predictive.warningRate };
    reason = `predictive warning: ${warning.map((s) => `${s.signal} trending to ${s.threshold}%`).join(', ')}`;
  } else if (current < 1) {
    // Back up over the duration of the ramp it recovers from (the bleeding signal's bleed_duration).
    const durationMs = existing?.durationMs ?? durationOf(ALL_SIGNALS);
    want = { startMs, from: current, direction: 1, durationMs, rate: 1 };
    reason = 'slow start after predictive recovery';
  }
  if (want === undefined) return { fraction: 1, ramp: undefined, reason: undefined };
  // Keep the running ramp while its direction, rate and duration are unchanged, so its start time (and thus
  // the step schedule) stays put across ticks and leaders.
  const ramp =
    existing !== undefined &&
    existing.direction === want.direction &&
    existing.rate === want.rate &&
    existing.durationMs === want.durationMs
      ? existing
      : want;
  return { fraction: rampFraction(ramp, nowMs), ramp, reason };
}

/** The decision for one backend, ignoring the service-wide panic threshold. */
function targetFor(b: BackendView, cfg: DecideConfig, s: FsmState, nowMs: number): Target {
  const key = idKey(b);
  const o = s.overrides.get(key);
  if (o !== undefined && (o.expiresMs === undefined || o.expiresMs > nowMs)) return overrideTarget(o);
  const prev = s.decisions.get(key);
  const a = b.agent;
  if (a === undefined) {
    // 6. static backend: our own checks.
    const v = b.external[0];
    if (v === undefined) return fixed('unknown', 0, 'not checked yet', 'external');
    return externalPassing(b)
      ? fixed('healthy', 1, 'health check passing', 'external')
      : fixed('unhealthy', 0, `health check failing: ${v.lastError || 'failed'}`, 'external');
  }
  if (a.state === 'pending' && prev !== undefined) return keep(prev);
  if (a.state === 'stale') {
    return cfg.vetoMode !== 'strict' && externalPassing(b)
      ? fixed('healthy', 1, `agent ${a.id} stale; kept in service by external validation`, 'external')
      : fixed('stale', 0, `agent ${a.id} stale`, 'stale');
  }
  if (a.claimHealthy === undefined) {
    // Connected but no report on it yet (an agent back after this node restarted): the last decision stands
    // until its first report, as while it was pending, so a reconnect neither drops a serving backend nor
    // lifts a veto.
    if (prev !== undefined) return keep(prev);
    return fixed('unknown', 0, `agent ${a.id} has not reported on it yet`, 'agent');
  }
  // 3. the agent's own failure is always respected.
  if (!a.claimHealthy) {
    const why = a.claimError === '' ? '' : `: ${a.claimError}`;
    return fixed('unhealthy', 0, `agent ${a.id} reports unhealthy${why}`, 'agent');
  }
  // 2. veto (the agent claims healthy).
  const veto = vetoVerdict(b, cfg, prev?.status === 'vetoed');
  if (veto?.kind === 'veto') return fixed('vetoed', 0, veto.reason, 'veto');
  // 4. predictive bleed, capped by a balanced-mode partial veto.
  // Only a predictive ramp continues; a backend back from an override, veto or failure starts at full weight.
  const live =
    prev?.status === 'healthy' && (prev.source === 'predictive' || rampOf(prev) !== undefined)
      ? prev
      : undefined;
  const p = predictiveRamp(b, cfg, live, nowMs);
  const t: Target = {
    status: 'healthy',
    fraction: round(p.fraction),
    reason: p.reason ?? `agent ${a.id} reports healthy`,
    source: p.reason === undefined ? 'agent' : 'predictive',
    ramp: p.ramp,
    bleeding: p.ramp !== undefined && p.ramp.direction < 0,
    ceiling: 1,
    panic: false,
    disagree: false,
  };
  if (veto?.kind === 'partial') {
    t.ceiling = veto.cap;
    if (veto.cap < t.fraction) {
      t.fraction = veto.cap;
      t.reason = veto.reason;
      t.source = 'veto';
    }
  } else if (veto?.kind === 'disagree') {
    t.reason = `${t.reason}; ${veto.reason}`;
    t.disagree = true;
  }
  return t;
}

interface Member {
  b: BackendView;
  prev: Decision | undefined;
  t: Target;
}

/**
 * Panic threshold for one service: when bleeding would take the service's effective weight below
 * `threshold` of its configured weight, give bleeding backends weight back one RAMP_STEP at a time, lowest
 * fraction first, until the service is at the floor or each is back at the weight it had (and within a
 * partial veto's cap). Only bleeding is held back: vetoed, failed, stale or overridden backends count at what
 * they are, so a veto can still take a service to 0. Raising the lowest first makes the held weights depend on
 * the floor, not on how far each ramp has run, so a hold is stable from tick to tick and writes nothing.
 * Returns whether anything is held. Replaces the targets of `members` (local to decide()).
 */
function holdAtPanicThreshold(members: Member[], threshold: number): boolean {
  const configured = members.reduce((sum, x) => sum + x.b.weight, 0);
  const floor = threshold * configured - 1e-9;
  let capacity = members.reduce((sum, x) => sum + x.b.weight * x.t.fraction, 0);
  if (configured === 0 || capacity >= floor) return false;
  // Never above the weight it had before this round: the hold stops a bleed, it does not undo one.
  const limit = (x: Member) =>
    Math.min(x.t.ceiling, x.prev?.status === 'healthy' ? x.prev.weightFraction : 1);
  let held = false;
  while (capacity < floor) {
    const open = members.filter((x) => x.t.bleeding && x.t.fraction < limit(x) - 1e-9);
    const lowest = open.reduce<Member | undefined>(
      (lo, x) => (lo === undefined || x.t.fraction < lo.t.fraction - 1e-9 ? x : lo),
      undefined,
    );
    if (lowest === undefined) break;
    const next = Math.min(limit(lowest), round(lowest.t.fraction + RAMP_STEP));
    capacity += lowest.b.weight * (next - lowest.t.fraction);
    const reason = lowest.t.panic
      ? lowest.t.reason
      : `${lowest.t.reason}; held at the panic threshold (${threshold})`;
    lowest.t = { ...lowest.t, fraction: next, reason, panic: true };
    held = true;
  }
  return held;
}

function sameRamp(a: Ramp | undefined, b: Ramp | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.startMs === b.startMs &&
    a.from === b.from &&
    a.direction === b.direction &&
    a.rate === b.rate &&
    a.durationMs === b.durationMs
  );
}

function sameDecision(prev: Decision | undefined, t: Target): boolean {
  return (
    prev !== undefined &&
    prev.status === t.status &&
    Math.abs(prev.weightFraction - t.fraction) < 1e-6 &&
    prev.source === t.source &&
    prev.reason === t.reason &&
    sameRamp(rampOf(prev), t.ramp) &&
    (prev.details['panic'] === 'true') === t.panic &&
    (prev.details['disagree'] === 'true') === t.disagree
  );
}

function event(
  nowMs: number,
  backend: { service: string; address: string; port: number },
  reason: string,
  source: string,
  details: Record<string, string> = {},
): Command {
  return command(nowMs, { case: 'appendEvent', value: { event: { backend, reason, source, details } } });
}

/**
 * Commands that bring the state machine in line with the observations, in this order: expired overrides
 * cleared, panic-threshold events, decision changes (each followed by its permissive disagreement event when
 * one begins), decisions of backends no longer present removed. Applying them and calling again with the same
 * inputs yields no commands.
 */
export function decide(
  cfg: DecideConfig,
  backends: readonly BackendView[],
  s: FsmState,
  nowMs: number,
): Command[] {
  const out: Command[] = [];
  // Expired overrides are cleared by a command, so every node forgets them at the same log index.
  for (const o of s.overrides.values()) {
    if (o.expiresMs !== undefined && o.expiresMs <= nowMs) {
      const backend = { service: o.service, address: o.address, port: o.port };
      out.push(
        command(nowMs, { case: 'clearOverride', value: { backend, user: 'system', reason: 'expired' } }),
      );
    }
  }
  const targets: Member[] = backends.map((b) => ({
    b,
    t: targetFor(b, cfg, s, nowMs),
    prev: s.decisions.get(idKey(b)),
  }));

  for (const service of new Set(backends.map((b) => b.service))) {
    const members = targets.filter((x) => x.b.service === service);
    const held = holdAtPanicThreshold(members, cfg.panicThreshold);
    // One event when a hold begins; a hold that persists is visible in the decisions' reasons.
    if (held && !members.some((x) => x.prev?.details['panic'] === 'true')) {
      const pct = Math.round(cfg.panicThreshold * 100);
      const reason = `panic threshold: bleeding held so ${service} keeps ${pct}% of its configured weight`;
      out.push(event(nowMs, { service, address: '', port: 0 }, reason, 'panic'));
    }
  }

  for (const { b, t, prev } of targets) {
    const backend = { service: b.service, address: b.address, port: b.port };
    if (!sameDecision(prev, t)) {
      out.push(
        command(nowMs, {
          case: 'setBackend',
          value: {
            decision: {
              backend,
              status: statusToWire(t.status),
              weightFraction: t.fraction,
              reason: t.reason,
              source: t.source,
              ...(t.ramp === undefined
                ? {}
                : { rampStart: timestampFromDate(new Date(t.ramp.startMs)), rampFrom: t.ramp.from }),
              details: {
                ...(t.ramp === undefined ? {} : rampDetails(t.ramp)),
                ...(t.panic ? { panic: 'true' } : {}),
                ...(t.disagree ? { disagree: 'true' } : {}),
              },
            },
          },
        }),
      );
    }
    // A permissive disagreement changes neither status nor weight, so apply records no event for it: say so once.
    if (t.disagree && prev?.details['disagree'] !== 'true') {
      out.push(event(nowMs, backend, t.reason, 'veto', { veto_mode: cfg.vetoMode }));
    }
  }
  // Decisions for backends that no longer exist (removed from config) are dropped.
  const live = new Set(backends.map((b) => idKey(b)));
  for (const d of s.decisions.values()) {
    if (!live.has(idKey(d))) {
      out.push(
        command(nowMs, {
          case: 'removeBackend',
          value: {
            backend: { service: d.service, address: d.address, port: d.port },
            reason: `${formatTarget(d.address, d.port)} is no longer configured or announced`,
          },
        }),
      );
    }
  }
  return out;
}
