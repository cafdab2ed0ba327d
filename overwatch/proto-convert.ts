/** Conversions between the wire messages (opengslb.v1) and the overwatch's plain data. */
import { create } from '@bufbuild/protobuf';
import { type Duration, DurationSchema, type Timestamp, TimestampSchema } from '@bufbuild/protobuf/wkt';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import {
  BackendStatus,
  type PredictivePolicy,
  PredictivePolicySchema,
  PredictiveState,
  Signal,
  SignalReadingSchema,
  type SignalReading as WireReading,
} from '../internal/gen/opengslb/v1/types_pb.js';
import type { SignalName, SignalReading } from './agent-registry.js';
import type { BackendStatusName } from './backend-status.js';

export function durationFromMs(ms: number): Duration {
  return create(DurationSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
}

export function msFromDuration(d: Duration | undefined): number {
  return d === undefined ? 0 : Number(d.seconds) * 1000 + Math.round(d.nanos / 1_000_000);
}

export function timestampFromDate(d: Date): Timestamp {
  const ms = d.getTime();
  return create(TimestampSchema, { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 });
}

/** cluster.predictive_health as sent to agents in Welcome and policy Directives. */
export function policyFromConfig(c: OverwatchConfig): PredictivePolicy {
  const p = c.cluster.predictiveHealth;
  return create(PredictivePolicySchema, {
    enabled: p.enabled,
    cpu: { threshold: p.cpu.threshold, bleedDuration: durationFromMs(p.cpu.bleedDurationMs) },
    memory: { threshold: p.memory.threshold, bleedDuration: durationFromMs(p.memory.bleedDurationMs) },
    errorRate: {
      threshold: p.errorRate.threshold,
      bleedDuration: durationFromMs(p.errorRate.bleedDurationMs),
      window: durationFromMs(p.errorRate.windowMs),
    },
    horizon: durationFromMs(p.horizonMs),
  });
}

const SIGNALS: ReadonlyMap<Signal, SignalName> = new Map([
  [Signal.CPU, 'cpu'],
  [Signal.MEMORY, 'memory'],
  [Signal.ERROR_RATE, 'error_rate'],
]);
const STATES: ReadonlyMap<PredictiveState, 'ok' | 'warning' | 'bleed'> = new Map([
  [PredictiveState.OK, 'ok'],
  [PredictiveState.WARNING, 'warning'],
  [PredictiveState.BLEED, 'bleed'],
]);

/** Readings with an unknown signal or state are dropped (a newer agent may send kinds we do not know yet). */
export function readingsFromWire(rs: readonly WireReading[]): SignalReading[] {
  const out: SignalReading[] = [];
  for (const r of rs) {
    const signal = SIGNALS.get(r.signal);
    const state = STATES.get(r.state);
    if (signal === undefined || state === undefined || !Number.isFinite(r.value)) continue;
    out.push({
      signal,
      state,
      value: r.value,
      threshold: r.threshold,
      trendPerMinute: r.trendPerMinute,
      reason: r.reason,
    });
  }
  return out;
}

export function readingToWire(r: SignalReading): WireReading {
  const signal = [...SIGNALS].find(([, n]) => n === r.signal)?.[0] ?? Signal.UNSPECIFIED;
  const state = [...STATES].find(([, n]) => n === r.state)?.[0] ?? PredictiveState.UNSPECIFIED;
  return create(SignalReadingSchema, {
    signal,
    state,
    value: r.value,
    threshold: r.threshold,
    trendPerMinute: r.trendPerMinute,
    reason: r.reason,
  });
}

const STATUS: Record<BackendStatusName, BackendStatus> = {
  healthy: BackendStatus.HEALTHY,
  draining: BackendStatus.DRAINING,
  vetoed: BackendStatus.VETOED,
  unhealthy: BackendStatus.UNHEALTHY,
  stale: BackendStatus.STALE,
  unknown: BackendStatus.UNKNOWN,
};

export function statusToWire(s: BackendStatusName): BackendStatus {
  return STATUS[s];
}

/** 0 ok, 1 warning, 2 bleed: the value of `opengslb_predictive_state`. */
export function predictiveStateValue(s: 'ok' | 'warning' | 'bleed'): number {
  return s === 'ok' ? 0 : s === 'warning' ? 1 : 2;
}
