/**
 * Turning one round of observations into a Report (pure): local check results of every backend and the three
 * predictive signals. The predictor state is threaded through by the caller.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { ReportSchema } from '../internal/gen/opengslb/v1/agent_pb.js';
import { PredictiveState, Signal } from '../internal/gen/opengslb/v1/types_pb.js';
import type { SignalName } from './metrics.js';
import type { PredictorPolicy, SignalReading } from './predictor.js';

export type ReportInit = MessageInitShape<typeof ReportSchema>;

/** A predictive policy per signal, as the agent applies it. */
export type AgentPolicy = { enabled: boolean } & Record<SignalName, PredictorPolicy>;

/** Until Welcome says otherwise: the overwatch schema's defaults (DESIGN.md 7a). */
export function defaultAgentPolicy(): AgentPolicy {
  return {
    enabled: true,
    cpu: { threshold: 80, horizonMs: 30_000, windowMs: 60_000 },
    memory: { threshold: 85, horizonMs: 30_000, windowMs: 60_000 },
    error_rate: { threshold: 5, horizonMs: 30_000, windowMs: 60_000 },
  };
}

const SIGNAL: Record<SignalName, Signal> = {
  cpu: Signal.CPU,
  memory: Signal.MEMORY,
  error_rate: Signal.ERROR_RATE,
};
const STATE = {
  ok: PredictiveState.OK,
  warning: PredictiveState.WARNING,
  bleed: PredictiveState.BLEED,
} as const;

export interface CheckObservation {
  service: string;
  address: string;
  port: number;
  healthy: boolean | undefined;
  latencyMs: number | undefined;
  error: string | undefined;
}

/** Builds the report; a signal whose source failed this round is left out (the overwatch keeps the last). */
export function buildReport(
  sequence: number,
  monotonicMs: number,
  checks: readonly CheckObservation[],
  readings: Partial<Record<SignalName, SignalReading>>,
  enabled: boolean,
): ReportInit {
  const signals = (Object.keys(SIGNAL) as SignalName[]).flatMap((name) => {
    const r = readings[name];
    if (r === undefined) return [];
    // With predictive health disabled, values are still reported but never ask for a bleed.
    const state = enabled ? STATE[r.state] : PredictiveState.OK;
    return [
      {
        signal: SIGNAL[name],
        value: r.value,
        threshold: r.threshold,
        trendPerMinute: r.trendPerMinute,
        state,
        reason: enabled ? r.reason : 'predictive health disabled',
      },
    ];
  });
  return {
    sequence: BigInt(sequence),
    monotonicTime: {
      seconds: BigInt(Math.floor(monotonicMs / 1000)),
      nanos: Math.floor((monotonicMs % 1000) * 1e6),
    },
    checks: checks
      .filter((c) => c.healthy !== undefined)
      .map((c) => ({
        backend: { service: c.service, address: c.address, port: c.port },
        healthy: c.healthy === true,
        ...(c.latencyMs === undefined
          ? {}
          : { latency: { seconds: 0n, nanos: Math.min(999_999_999, Math.round(c.latencyMs * 1e6)) } }),
        error: c.error ?? '',
      })),
    cpuPercent: readings.cpu?.value ?? 0,
    memoryPercent: readings.memory?.value ?? 0,
    errorRatePercent: readings.error_rate?.value ?? 0,
    signals,
  };
}
