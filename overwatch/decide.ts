/**
 * The decision engine (DESIGN.md sections 4-5): a pure function from configuration, observations, the state
 * machine's current state and the time to the commands that change decisions. Run by the leader on every tick
 * and on every observation change; emits a command only when a decision changes (status, stepped weight,
 * source or reason), so the write rate is bounded by changes, not by how often agents report.
 *
 * Authority, strongest first:
 *   1. operator override (until cleared or expired; expiry is a command the leader proposes)
 *   2. overwatch veto (external validation contradicts an agent that claims healthy; per veto mode)
 *   3. agent claim "unhealthy" (always respected)
 *   4. predictive bleed (bleed: ramp to 0 over bleed_duration; warning: the same at a reduced rate;
 *      recovery: slow start back to full weight)
 *   5. agent claim "healthy"
 *   6. no agent: the overwatch's own checks
 * A stale agent's backend is out in `strict`; in `balanced`/`permissive` external validation keeps it in
 * ("external rescue") until remove_after. Bleeding never takes a service below `panic_threshold` of its
 * configured weight (the bleed is held there); vetoes and failures are not capped.
 */
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import type { BackendStatusName } from './backend-status.js';
import { formatTarget } from './backends.js';
import { type Ramp, rampDetails, rampFraction, rampOf } from './decide-ramp.js';
import { command, type Decision, type FsmState, idKey, type OverrideRecord } from './fsm.js';
import { statusToWire, timestampFromDate } from './proto-convert.js';

export type VetoMode = 'strict' | 'balanced' | 'permissive';
export type SignalState = 'ok' | 'warning' | 'bleed';

/** One vantage point's view of a backend (an overwatch node's probes). */
export interface VantageView {
  vantage: string;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastOk: boolean;
  lastError: string;
}

export interface AgentView {
  id: string;
  /** `active` while reports arrive; `stale` after stale_threshold. */
  state: 'active' | 'stale';
  /** The agent's local check verdict; undefined until its first report on the backend. */
  claimHealthy: boolean | undefined;
  claimError: string;
  signals: ReadonlyArray<{ signal: string; state: SignalState; value: number; threshold: number }>;
}

export interface BackendView {
  service: string;
  address: string;
  port: number;
  /** Configured (or announced) weight. */
  weight: number;
  /** Consecutive passing rounds needed to leave a veto (the check spec's success_threshold). */
  successThreshold: number;
  agent: AgentView | undefined;
  /** External validation per vantage point; empty until the first probe. */
  external: readonly VantageView[];
}

export interface DecideConfig {
  vetoMode: VetoMode;
  vetoThreshold: number;
  panicThreshold: number;
  predictive: {
    enabled: boolean;
    /** Bleed ramp duration per signal, ms. */
    bleedDurationMs: Readonly<Record<string, number>>;
    /** Speed of a `warning` bleed relative to `bleed`; 0 means warnings do not bleed. */
    warningRate: number;
  };
}

interface Target {
  status: BackendStatusName;
  fraction: number;
  reason: string;
  source: string;
  ramp: Ramp | undefined;
  /** The fraction was lowered by predictive bleed (the only reduction the panic threshold may hold). */
  bleeding: boolean;
  /** Held at the panic threshold. */
  panic?: boolean;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

function overrideTarget(o: OverrideRecord): Target {
  const who = `${o.user || 'an operator'}${o.reason === '' ? '' : `: ${o.reason}`}`;
  switch (o.action) {
    case 'force_healthy':
      return {
        status: 'healthy',
        fraction: 1,
        reason: `override force_healthy by ${who}`,
        source: 'override',
        ramp: undefined,
        bleeding: false,
      };
    case 'force_unhealthy':
      return {
        status: 'unhealthy',
        fraction: 0,
        reason: `override force_unhealthy by ${who}`,
        source: 'override',
        ramp: undefined,
        bleeding: false,
      };
    case 'drain':
      return {
        status: 'draining',
        fraction: 0,
        reason: `override drain by ${who}`,
        source: 'override',
        ramp: undefined,
        bleeding: false,
      };
  }
}

/** Vantage points whose failing streak reached the veto threshold. */
function failingVantages(b: BackendView, threshold: number): VantageView[] {
  return b.external.filter((v) => v.consecutiveFailures >= threshold);
}

/**
 * Veto verdict for an agent that claims healthy: 'veto', a partial weight cap (balanced minority), or none.
 * `wasVetoed` gives hysteresis: a vetoed backend returns only after success_threshold passing rounds
 * (from every vantage in strict, from a majority in balanced).
 */
function vetoVerdict(
  b: BackendView,
  cfg: DecideConfig,
  wasVetoed: boolean,
):
  | { kind: 'veto'; reason: string }
  | { kind: 'partial'; cap: number; reason: string }
  | { kind: 'disagree'; reason: string }
  | undefined {
  const n = b.external.length;
  if (n === 0) return undefined;
  const failing = failingVantages(b, cfg.vetoThreshold);
  const recovered = b.external.filter((v) => v.consecutiveSuccesses >= b.successThreshold).length;
  const why = (vs: VantageView[]) =>
    vs.map((v) => `${v.vantage}: ${v.lastError || 'failing'} x${v.consecutiveFailures}`).join('; ');
  switch (cfg.vetoMode) {
    case 'strict':
      if (failing.length > 0)
        return { kind: 'veto', reason: `external validation failing (${why(failing)})` };
      if (wasVetoed && recovered < n)
        return {
          kind: 'veto',
          reason: `vetoed until every vantage point passes ${b.successThreshold} rounds`,
        };
      return undefined;
    case 'balanced':
      if (failing.length * 2 > n)
        return { kind: 'veto', reason: `majority of vantage points failing (${why(failing)})` };
      if (wasVetoed && recovered * 2 <= n)
        return {
          kind: 'veto',
          reason: `vetoed until a majority of vantage points passes ${b.successThreshold} rounds`,
        };
      if (failing.length > 0) {
        return {
          kind: 'partial',
          cap: 1 - failing.length / n,
          reason: `minority of vantage points failing (${why(failing)})`,
        };
      }
      return undefined;
    case 'permissive':
      if (failing.length > 0)
        return { kind: 'disagree', reason: `external validation disagrees with the agent (${why(failing)})` };
      return undefined;
  }
}

/** External validation passes: the majority of vantage points' last probe succeeded (one vantage: that one). */
function externalPassing(b: BackendView): boolean {
  const ok = b.external.filter((v) => v.lastOk).length;
  return b.external.length > 0 && ok * 2 > b.external.length;
}

function predictiveRamp(
  b: BackendView,
  cfg: DecideConfig,
  prev: Decision | undefined,
  nowMs: number,
): { fraction: number; ramp: Ramp | undefined; reason: string | undefined; bleeding: boolean } {
  const signals = cfg.predictive.enabled ? (b.agent?.signals ?? []) : [];
  const bleeding = signals.filter((s) => s.state === 'bleed');
  const warning = cfg.predictive.warningRate > 0 ? signals.filter((s) => s.state === 'warning') : [];
  const current = prev === undefined ? 1 : prevFraction(prev, nowMs);
  const existing = prev === undefined ? undefined : rampOf(prev);
  const durationOf = (names: string[]) =>
    Math.min(...names.map((n) => cfg.predictive.bleedDurationMs[n] ?? 30_000));
  let want: Ramp | undefined;
  let reason: string | undefined;
  if (bleeding.length > 0) {
    want = {
      startMs: nowMs,
      from: current,
      direction: -1,
      durationMs: durationOf(bleeding.map((s) => s.signal)),
      rate: 1,
    };
    reason = `predictive bleed: ${bleeding.map((s) => `${s.signal} ${s.value.toFixed(1)}% >= ${s.threshold}%`).join(', ')}`;
  } else if (warning.length > 0) {
    want = {
      startMs: nowMs,
      from: current,
      direction: -1,
      durationMs: durationOf(warning.map((s) => s.signal)),
      rate: cfg.predictive.warningRate,
    };
    reason = `predictive warning: ${warning.map((s) => `${s.signal} trending to ${s.threshold}%`).join(', ')}`;
  } else if (current < 1) {
    want = {
      startMs: nowMs,
      from: current,
      direction: 1,
      durationMs: durationOf(['cpu', 'memory', 'error_rate']),
      rate: 1,
    };
    reason = 'slow start after predictive recovery';
  }
  if (want === undefined) return { fraction: 1, ramp: undefined, reason: undefined, bleeding: false };
  // Keep the running ramp while its direction and rate are unchanged, so its start time (and thus the step
  // schedule) stays put across ticks and leaders.
  const ramp =
    existing !== undefined &&
    existing.direction === want.direction &&
    existing.rate === want.rate &&
    existing.durationMs === want.durationMs
      ? existing
      : want;
  return { fraction: rampFraction(ramp, nowMs), ramp, reason, bleeding: ramp.direction < 0 };
}

function prevFraction(d: Decision, nowMs: number): number {
  const r = rampOf(d);
  return r === undefined ? d.weightFraction : rampFraction(r, nowMs);
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
    if (v === undefined)
      return {
        status: 'unknown',
        fraction: 0,
        reason: 'not checked yet',
        source: 'external',
        ramp: undefined,
        bleeding: false,
      };
    return externalPassing(b)
      ? {
          status: 'healthy',
          fraction: 1,
          reason: 'health check passing',
          source: 'external',
          ramp: undefined,
          bleeding: false,
        }
      : {
          status: 'unhealthy',
          fraction: 0,
          reason: `health check failing: ${v.lastError || 'failed'}`,
          source: 'external',
          ramp: undefined,
          bleeding: false,
        };
  }
  if (a.state === 'stale') {
    if (cfg.vetoMode !== 'strict' && externalPassing(b)) {
      return {
        status: 'healthy',
        fraction: 1,
        reason: `agent ${a.id} stale; kept in service by external validation`,
        source: 'external',
        ramp: undefined,
        bleeding: false,
      };
    }
    return {
      status: 'stale',
      fraction: 0,
      reason: `agent ${a.id} stale`,
      source: 'stale',
      ramp: undefined,
      bleeding: false,
    };
  }
  if (a.claimHealthy === undefined) {
    return {
      status: 'unknown',
      fraction: 0,
      reason: `agent ${a.id} has not reported on it yet`,
      source: 'agent',
      ramp: undefined,
      bleeding: false,
    };
  }
  // 3. the agent's own failure is always respected.
  if (!a.claimHealthy) {
    return {
      status: 'unhealthy',
      fraction: 0,
      reason: `agent ${a.id} reports unhealthy${a.claimError === '' ? '' : `: ${a.claimError}`}`,
      source: 'agent',
      ramp: undefined,
      bleeding: false,
    };
  }
  // 2. veto (the agent claims healthy).
  const veto = vetoVerdict(b, cfg, prev?.status === 'vetoed');
  if (veto?.kind === 'veto')
    return {
      status: 'vetoed',
      fraction: 0,
      reason: veto.reason,
      source: 'veto',
      ramp: undefined,
      bleeding: false,
    };
  // 4. predictive bleed, capped by a balanced-mode partial veto.
  const p = predictiveRamp(
    b,
    cfg,
    prev?.status === 'healthy' || prev?.status === 'draining' ? prev : undefined,
    nowMs,
  );
  let fraction = p.fraction;
  let reason = p.reason ?? `agent ${a.id} reports healthy`;
  let source = p.reason === undefined ? 'agent' : 'predictive';
  if (veto?.kind === 'partial' && veto.cap < fraction) {
    fraction = Math.floor(veto.cap * 10 + 1e-9) / 10;
    reason = veto.reason;
    source = 'veto';
  } else if (veto?.kind === 'disagree') {
    reason = `${reason}; ${veto.reason}`;
  }
  return { status: 'healthy', fraction: round(fraction), reason, source, ramp: p.ramp, bleeding: p.bleeding };
}

function sameDecision(prev: Decision | undefined, t: Target): boolean {
  return (
    prev !== undefined &&
    prev.status === t.status &&
    Math.abs(prev.weightFraction - t.fraction) < 1e-6 &&
    prev.source === t.source &&
    prev.reason === t.reason &&
    (prev.details['ramp'] ?? '') === (t.ramp === undefined ? '' : t.ramp.direction < 0 ? 'down' : 'up') &&
    (prev.details['panic'] === 'true') === (t.panic === true)
  );
}

/** Commands that bring the state machine in line with the observations. */
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
      out.push(
        command(nowMs, {
          case: 'clearOverride',
          value: {
            backend: { service: o.service, address: o.address, port: o.port },
            user: 'system',
            reason: 'expired',
          },
        }),
      );
    }
  }
  const targets = backends.map((b) => ({
    b,
    t: targetFor(b, cfg, s, nowMs),
    prev: s.decisions.get(idKey(b)),
  }));

  // Panic threshold, per service: hold bleeding where it would take the service below the floor.
  const services = new Set(backends.map((b) => b.service));
  for (const service of services) {
    const members = targets.filter((x) => x.b.service === service);
    const configured = members.reduce((sum, x) => sum + x.b.weight, 0);
    const capacity = members.reduce((sum, x) => sum + x.b.weight * x.t.fraction, 0);
    if (configured === 0 || capacity >= cfg.panicThreshold * configured) continue;
    let held = false;
    for (const x of members) {
      if (!x.t.bleeding) continue;
      const before = x.prev?.status === 'healthy' ? x.prev.weightFraction : 1;
      if (x.t.fraction >= before) continue;
      x.t = {
        ...x.t,
        fraction: before,
        ramp: undefined,
        panic: true,
        reason: `${x.t.reason}; held at the panic threshold (${cfg.panicThreshold})`,
      };
      held = true;
    }
    const wasPanicking = members.some((x) => x.prev?.details['panic'] === 'true');
    if (held && !wasPanicking) {
      out.push(
        command(nowMs, {
          case: 'appendEvent',
          value: {
            event: {
              backend: { service, address: '', port: 0 },
              reason: `panic threshold: bleeding held so ${service} keeps ${Math.round(cfg.panicThreshold * 100)}% of its configured weight`,
              source: 'panic',
            },
          },
        }),
      );
    }
  }

  for (const { b, t, prev } of targets) {
    if (sameDecision(prev, t)) continue;
    out.push(
      command(nowMs, {
        case: 'setBackend',
        value: {
          decision: {
            backend: { service: b.service, address: b.address, port: b.port },
            status: statusToWire(t.status),
            weightFraction: t.fraction,
            reason: t.reason,
            source: t.source,
            ...(t.ramp === undefined
              ? {}
              : { rampStart: timestampFromDate(new Date(t.ramp.startMs)), rampFrom: t.ramp.from }),
            details: {
              ...(t.ramp === undefined ? {} : rampDetails(t.ramp)),
              ...(t.panic === true ? { panic: 'true' } : {}),
            },
          },
        },
      }),
    );
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
