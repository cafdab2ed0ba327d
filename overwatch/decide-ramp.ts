/**
 * Weight ramps for predictive bleed and slow start (DESIGN.md section 5, authority 4). A ramp is stored in
 * the decision as (start time, start fraction, direction, rate); the fraction at `now` is computed from it, so
 * the leader that takes over continues the same ramp. Fractions move in bounded steps (RAMP_STEP), so a
 * ramp writes at most 1/RAMP_STEP commands however often decide() runs.
 */

/** Weight moves in 10 % steps. */
export const RAMP_STEP = 0.1;

export interface Ramp {
  startMs: number;
  from: number;
  /** -1 bleeding down, +1 slow start up. */
  direction: -1 | 1;
  /** Full-scale ramp duration in ms at rate 1 (bleed_duration); a rate of 0.5 takes twice as long. */
  durationMs: number;
  rate: number;
}

/**
 * The quantized fraction a ramp has reached at `nowMs`. A step is taken when the linear ramp reaches it, in
 * either direction: a bleed from 1 is at 0.9 from duration/10 and at 0 exactly at the duration (rounding up), a
 * slow start from 0 is at 0.1 from duration/10 and at 1 exactly at the duration (rounding down). So the served
 * weight never runs ahead of the linear schedule, and a ramp's first write (its start) is not followed by a
 * step on the very next tick.
 */
export function rampFraction(r: Ramp, nowMs: number): number {
  if (r.durationMs <= 0) return r.direction < 0 ? 0 : 1;
  const moved = (Math.max(0, nowMs - r.startMs) / r.durationMs) * r.rate;
  const raw = Math.min(1, Math.max(0, r.from + r.direction * moved));
  // The epsilon keeps float noise (0.7 / 0.1 = 6.999...) from crossing a step boundary.
  const steps = r.direction < 0 ? Math.ceil(raw / RAMP_STEP - 1e-9) : Math.floor(raw / RAMP_STEP + 1e-9);
  // A ramp never moves against its direction, even from an off-step start (0.65 bleeds to 0.6, not up to 0.7).
  const q = r.direction < 0 ? Math.min(r.from, steps * RAMP_STEP) : Math.max(r.from, steps * RAMP_STEP);
  return Math.round(Math.min(1, Math.max(0, q)) * 1000) / 1000;
}

/** Details keys a ramp is stored under in a decision. */
export function rampDetails(r: Ramp): Record<string, string> {
  return {
    ramp: r.direction < 0 ? 'down' : 'up',
    ramp_rate: String(r.rate),
    ramp_duration_ms: String(r.durationMs),
  };
}

/** The ramp stored in a decision, if any. */
export function rampOf(d: {
  rampStartMs: number | undefined;
  rampFrom: number;
  details: Record<string, string>;
}): Ramp | undefined {
  const dir = d.details['ramp'];
  if (d.rampStartMs === undefined || (dir !== 'down' && dir !== 'up')) return undefined;
  return {
    startMs: d.rampStartMs,
    from: d.rampFrom,
    direction: dir === 'down' ? -1 : 1,
    durationMs: Number(d.details['ramp_duration_ms'] ?? 0),
    rate: Number(d.details['ramp_rate'] ?? 1),
  };
}
