/**
 * The predictor: per signal (CPU, memory, error rate) it keeps the samples of the last window, fits a
 * least-squares line through them and decides `ok`, `warning` (the line crosses the threshold within the
 * horizon) or `bleed` (at or over the threshold, held with hysteresis). DESIGN.md section 5, "Predictive
 * health".
 *
 * Pure: no clock, no I/O, no mutation of its inputs. Times are milliseconds on one monotonic clock chosen by
 * the caller (`performance.now()` in the agent); values are percentages.
 */
import { formatDuration } from '../internal/config/duration.js';

/** One measurement of a signal. */
export interface Sample {
  /** When the value was measured, in ms on the caller's monotonic clock. */
  tMs: number;
  /** Percentage, e.g. 91.5 for 91.5 % CPU. */
  value: number;
}

/** Verdict for one signal; the overwatch bleeds traffic on `bleed` and reports `warning`. */
export type PredictiveState = 'ok' | 'warning' | 'bleed';

/** The overwatch's policy for one signal (`cluster.predictive_health.<signal>` plus `horizon`). */
export interface PredictorPolicy {
  /** Percentage at which the signal bleeds (value >= threshold). */
  threshold: number;
  /** How far ahead the trend is extrapolated, in ms; 0 disables `warning`. */
  horizonMs: number;
  /**
   * Window in ms: samples older than `nowMs - windowMs` are dropped, and a bleeding signal must stay below
   * `threshold - hysteresisMargin` this long before it leaves `bleed`. Must be > 0.
   */
  windowMs: number;
  /**
   * Percentage points below `threshold` the signal must fall to start leaving `bleed`. Default
   * `DEFAULT_HYSTERESIS_MARGIN`. Larger: fewer flaps around the threshold, slower return of traffic.
   */
  hysteresisMargin?: number;
}

/** What the agent reports for one signal (proto `SignalReading` without the signal name). */
export interface SignalReading {
  /** The latest sample's value. */
  value: number;
  threshold: number;
  /** Slope of the least-squares line over the window, in percentage points per minute (0 below 2 samples). */
  trendPerMinute: number;
  state: PredictiveState;
  /** Short and human, e.g. `cpu 91.0% >= 80%` or `cpu forecast 84.2% within 30s (+8.1/min)`. */
  reason: string;
}

/** Everything the predictor remembers about one signal. Treat as immutable; `evaluate` returns a new one. */
export interface SignalState {
  /** Signal name used in reasons: `cpu`, `memory`, `error_rate`. */
  readonly label: string;
  /** Samples inside the window, oldest first, at most `MAX_SAMPLES`. */
  readonly samples: readonly Sample[];
  /** In `bleed` (entered at the threshold, left only after the hysteresis hold). */
  readonly bleeding: boolean;
  /** While bleeding: time of the first sample of the current run below `threshold - margin`. */
  readonly belowSinceMs: number | undefined;
}

/** Percentage points of hysteresis when the policy names none. */
export const DEFAULT_HYSTERESIS_MARGIN = 5;
/** Fewer samples than this never produce `warning`: two points always fit a line exactly. */
export const MIN_TREND_SAMPLES = 3;
/** The samples must span at least this fraction of the window before a trend may produce `warning`. */
export const MIN_TREND_SPAN_FRACTION = 0.25;
/** Bound on retained samples whatever the window and sampling rate (1 h of 1 s samples). */
export const MAX_SAMPLES = 3600;

/** A fresh state for the signal named `label`. */
export function initialSignalState(label: string): SignalState {
  return { label, samples: [], bleeding: false, belowSinceMs: undefined };
}

/** Why `policy` cannot be used, or undefined. For validating a policy received from the network. */
export function checkPolicy(policy: PredictorPolicy): string | undefined {
  const margin = policy.hysteresisMargin ?? DEFAULT_HYSTERESIS_MARGIN;
  if (!Number.isFinite(policy.threshold))
    return `threshold must be a finite number (got ${policy.threshold})`;
  if (!Number.isFinite(policy.horizonMs) || policy.horizonMs < 0) {
    return `horizonMs must be >= 0 (got ${policy.horizonMs})`;
  }
  if (!Number.isFinite(policy.windowMs) || policy.windowMs <= 0) {
    return `windowMs must be > 0 (got ${policy.windowMs})`;
  }
  if (!Number.isFinite(margin) || margin < 0) return `hysteresisMargin must be >= 0 (got ${margin})`;
  return undefined;
}

interface Fit {
  /** Value units per ms. */
  slope: number;
  tMean: number;
  vMean: number;
}

/**
 * Ordinary least squares over (t, value). Times are centred on their mean before multiplying, so epoch-sized
 * timestamps lose no precision.
 */
function fit(samples: readonly Sample[]): Fit {
  const n = samples.length;
  if (n === 0) return { slope: 0, tMean: 0, vMean: 0 };
  let tSum = 0;
  let vSum = 0;
  for (const s of samples) {
    tSum += s.tMs;
    vSum += s.value;
  }
  const tMean = tSum / n;
  const vMean = vSum / n;
  let stt = 0;
  let stv = 0;
  for (const s of samples) {
    const dt = s.tMs - tMean;
    stt += dt * dt;
    stv += dt * (s.value - vMean);
  }
  return { slope: stt === 0 ? 0 : stv / stt, tMean, vMean };
}

/** Slope of the least-squares line in value units per ms; 0 below 2 samples or when all times are equal. */
export function leastSquaresSlope(samples: readonly Sample[]): number {
  return fit(samples).slope;
}

const pct = (v: number): string => `${v.toFixed(1)}%`;
/** A threshold as an operator wrote it: 80 -> "80%", 75.5 -> "75.5%". */
const limit = (v: number): string => `${Number(v.toFixed(1))}%`;

/**
 * Adds `sample`, drops samples outside the window and decides the signal's state at `nowMs`.
 *
 * - `bleed` when the value is at or over the threshold. Once bleeding, the signal stays in `bleed` until it
 *   has been below `threshold - margin` for a full window (measured from the first sample of that run).
 * - `warning` when not bleeding, `horizonMs > 0`, there are at least `MIN_TREND_SAMPLES` samples spanning
 *   `MIN_TREND_SPAN_FRACTION` of the window, the slope is positive, and the forecast reaches the threshold.
 *   The forecast extrapolates the fitted line from its value at `nowMs` (not from the latest raw sample), so
 *   the newest sample being an outlier moves it by about (4 + 6H/span)/n of its deviation (n evenly spaced
 *   samples over `span`, horizon H) rather than by all of it.
 * - `ok` otherwise.
 *
 * Throws RangeError for an invalid policy (see `checkPolicy`), a non-finite value, a sample older than the
 * previous one, or `nowMs` before the sample: each is a bug in the caller, not a measurement.
 */
export function evaluate(
  state: SignalState,
  sample: Sample,
  policy: PredictorPolicy,
  nowMs: number,
): { state: SignalState; reading: SignalReading } {
  const bad = checkPolicy(policy);
  if (bad !== undefined) throw new RangeError(`predictor policy for ${state.label}: ${bad}`);
  if (!Number.isFinite(sample.value)) {
    throw new RangeError(`${state.label} sample value must be finite (got ${sample.value})`);
  }
  const last = state.samples[state.samples.length - 1];
  if (last !== undefined && sample.tMs < last.tMs) {
    throw new RangeError(
      `${state.label} sample at ${sample.tMs}ms is older than the previous sample at ${last.tMs}ms`,
    );
  }
  if (nowMs < sample.tMs) throw new RangeError(`now ${nowMs}ms is before the sample at ${sample.tMs}ms`);

  const windowStart = nowMs - policy.windowMs;
  const kept = [...state.samples, sample].filter((s) => s.tMs >= windowStart);
  const samples = kept.length > MAX_SAMPLES ? kept.slice(kept.length - MAX_SAMPLES) : kept;
  const line = fit(samples);
  const value = sample.value;
  const threshold = policy.threshold;
  const reading = (st: PredictiveState, reason: string): SignalReading => ({
    value,
    threshold,
    trendPerMinute: line.slope * 60_000,
    state: st,
    reason,
  });
  const label = state.label;

  if (value >= threshold) {
    return {
      state: { label, samples, bleeding: true, belowSinceMs: undefined },
      reading: reading('bleed', `${label} ${pct(value)} >= ${limit(threshold)}`),
    };
  }
  if (state.bleeding) {
    const lower = threshold - (policy.hysteresisMargin ?? DEFAULT_HYSTERESIS_MARGIN);
    const belowSinceMs = value < lower ? (state.belowSinceMs ?? sample.tMs) : undefined;
    if (belowSinceMs === undefined || nowMs - belowSinceMs < policy.windowMs) {
      return {
        state: { label, samples, bleeding: true, belowSinceMs },
        reading: reading(
          'bleed',
          `${label} holding bleed: ${pct(value)} not yet below ${limit(lower)} for ${formatDuration(policy.windowMs)}`,
        ),
      };
    }
    // Held below the lower bound for a full window: fall through and judge the signal afresh.
  }

  const next: SignalState = { label, samples, bleeding: false, belowSinceMs: undefined };
  const first = samples[0];
  const spanMs = first === undefined ? 0 : sample.tMs - first.tMs;
  const trendUsable =
    policy.horizonMs > 0 &&
    samples.length >= MIN_TREND_SAMPLES &&
    spanMs >= policy.windowMs * MIN_TREND_SPAN_FRACTION &&
    line.slope > 0;
  if (trendUsable) {
    const forecast = line.vMean + line.slope * (nowMs + policy.horizonMs - line.tMean);
    if (forecast >= threshold) {
      const trend = (line.slope * 60_000).toFixed(1);
      return {
        state: next,
        reading: reading(
          'warning',
          `${label} forecast ${pct(forecast)} within ${formatDuration(policy.horizonMs)} (+${trend}/min)`,
        ),
      };
    }
  }
  return { state: next, reading: reading('ok', `${label} ${pct(value)} < ${limit(threshold)}`) };
}
