/** Probe protocol: an HTTP(S) GET with a status check, or a bare TCP connect. */
export type CheckType = 'http' | 'https' | 'tcp';

/** Inclusive range of acceptable HTTP status codes, e.g. `{ min: 200, max: 299 }`. */
export interface StatusRange {
  min: number;
  max: number;
}

/** How one target is probed and how results become a health verdict. */
export interface CheckSpec {
  /** Probe protocol. */
  type: CheckType;
  /** Time between the starts of two consecutive checks of one target, in ms (not between end and start). */
  intervalMs: number;
  /** Bound on one attempt in ms, covering connect, TLS handshake, request and response body. */
  timeoutMs: number;
  /** Request path for http(s), e.g. `/health`; ignored for tcp. */
  path: string;
  /**
   * Host header for http(s), sent verbatim; for https also the TLS SNI name when it is not an IP literal.
   * Default: the target address (bracketed if IPv6) plus `:port` unless the port is the scheme default.
   */
  host?: string;
  /** Acceptable status codes for http(s); a response outside every range fails. Usually `[{200, 299}]`. */
  expectedStatus: StatusRange[];
  /** Consecutive failures that turn a healthy target unhealthy; values below 1 act as 1. */
  failureThreshold: number;
  /** Consecutive successes that turn an unhealthy target healthy; values below 1 act as 1. */
  successThreshold: number;
}

/** Where a checker connects: an IP literal (v4 or v6, brackets optional) or a host name, and a TCP port. */
export interface CheckAddress {
  address: string;
  port: number;
}

/** One backend to probe. `key` is chosen by the caller and must be unique within a monitor. */
export interface HealthTarget extends CheckAddress {
  key: string;
  spec: CheckSpec;
  /** Region the backend belongs to; carried into statuses and logs, not used for probing. */
  region: string;
}

/** Outcome of one check attempt. Checkers never throw; failures are `ok: false` with a short `error`. */
export interface CheckResult {
  ok: boolean;
  /** Time from the start of the attempt until success or failure was known, in ms (performance.now()). */
  rttMs: number;
  /** Short reason for a failure, e.g. `connection refused`, `timeout after 2000ms`. */
  error?: string;
  /** HTTP status code when a response was received. */
  statusCode?: number;
}

/** Health state of one target, as produced by `observe` in rise-fall.ts. */
export interface TargetStatus {
  key: string;
  address: string;
  port: number;
  region: string;
  /** Current verdict; undefined until the first result. */
  healthy: boolean | undefined;
  /** Wall time the last check completed. */
  lastCheck: Date | undefined;
  /** Length of the current run of failed checks (0 after a success). */
  consecutiveFailures: number;
  /** Length of the current run of successful checks (0 after a failure). */
  consecutiveSuccesses: number;
  /** Error of the most recent check if it failed; undefined after a success. */
  lastError: string | undefined;
  /** RTT of the most recent successful check in ms; a failure's time-to-failure is not an RTT. */
  rttMs: number | undefined;
  /** Number of completed checks. */
  checks: number;
}
