import type { CheckResult, CheckSpec, HealthTarget, TargetStatus } from './types.js';

/** Status of a target before any result: health unknown, counters zero. */
export function initialStatus(target: HealthTarget): TargetStatus {
  return {
    key: target.key,
    address: target.address,
    port: target.port,
    region: target.region,
    healthy: undefined,
    lastCheck: undefined,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    lastError: undefined,
    rttMs: undefined,
    checks: 0,
  };
}

/** Result of folding one check result into a status. */
export interface Observation {
  /** The new status; the input status is never modified. */
  status: TargetStatus;
  /** True when `healthy` differs from the input status, including the first verdict after `undefined`. */
  changed: boolean;
}

/**
 * Folds one check result into `status` (pure: no I/O, no clock; `now` is the wall time the check
 * completed). Hysteresis as in HAProxy's rise/fall:
 * - the first result decides directly, so a fresh target is served (or withheld) after one check;
 * - healthy -> unhealthy after `spec.failureThreshold` consecutive failures;
 * - unhealthy -> healthy after `spec.successThreshold` consecutive successes;
 * - a result resets the opposite run's counter, so alternating results never flip the verdict when both
 *   thresholds are above 1.
 * Thresholds below 1 act as 1.
 */
export function observe(status: TargetStatus, result: CheckResult, spec: CheckSpec, now: Date): Observation {
  const consecutiveSuccesses = result.ok ? status.consecutiveSuccesses + 1 : 0;
  const consecutiveFailures = result.ok ? 0 : status.consecutiveFailures + 1;
  const healthy = nextVerdict(status.healthy, result.ok, consecutiveSuccesses, consecutiveFailures, spec);
  const next: TargetStatus = {
    ...status,
    healthy,
    lastCheck: new Date(now.getTime()),
    consecutiveFailures,
    consecutiveSuccesses,
    lastError: result.ok ? undefined : (result.error ?? 'check failed'),
    rttMs: result.ok ? result.rttMs : status.rttMs,
    checks: status.checks + 1,
  };
  return { status: next, changed: healthy !== status.healthy };
}

function nextVerdict(
  current: boolean | undefined,
  ok: boolean,
  successes: number,
  failures: number,
  spec: CheckSpec,
): boolean {
  if (current === undefined) return ok;
  if (current) return failures < Math.max(1, spec.failureThreshold);
  return successes >= Math.max(1, spec.successThreshold);
}
