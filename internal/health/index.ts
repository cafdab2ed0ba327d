export type { Attempt, CheckOptions } from './check-attempt.js';
export { describeNetworkError, startAttempt } from './check-attempt.js';
export {
  checkHttp,
  defaultExpectedStatus,
  formatStatusRanges,
  hostHeader,
  MAX_BODY_BYTES,
  sniName,
  statusInRanges,
  unbracket,
} from './check-http.js';
export { checkTcp } from './check-tcp.js';
export type { Checker, Checkers, HealthMonitor, HealthMonitorOptions } from './monitor.js';
export { createHealthMonitor, defaultCheckers, sameProbe } from './monitor.js';
export type { Observation } from './rise-fall.js';
export { initialStatus, observe } from './rise-fall.js';
export type {
  CheckAddress,
  CheckResult,
  CheckSpec,
  CheckType,
  HealthTarget,
  StatusRange,
  TargetStatus,
} from './types.js';
