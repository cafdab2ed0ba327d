import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { CheckOptions } from './check-attempt.js';
import { checkHttp } from './check-http.js';
import { checkTcp } from './check-tcp.js';
import { initialStatus, observe } from './rise-fall.js';
import type { CheckAddress, CheckResult, CheckSpec, CheckType, HealthTarget, TargetStatus } from './types.js';

/** Runs one check attempt. Must resolve within about `spec.timeoutMs` and honour `opts.signal`. */
export type Checker = (target: CheckAddress, spec: CheckSpec, opts: CheckOptions) => Promise<CheckResult>;

/** One checker per check type. */
export type Checkers = Record<CheckType, Checker>;

/** The real network checkers: node:http, node:https, node:net. */
export function defaultCheckers(): Checkers {
  return {
    http: (target, spec, opts) => checkHttp(target, spec, 'http', opts),
    https: (target, spec, opts) => checkHttp(target, spec, 'https', opts),
    tcp: (target, spec, opts) => checkTcp(target, spec, opts),
  };
}

/** Inputs of `createHealthMonitor`. */
export interface HealthMonitorOptions {
  /** Initial targets; keys must be unique. Checked once `start()` is called. */
  targets: HealthTarget[];
  /** Receives one info line per health transition; nothing per check. */
  log: Logger;
  /** Called on every health transition, including the first verdict (`prev.healthy` undefined). */
  onChange?: (status: TargetStatus, prev: TargetStatus) => void;
  /** Called for every completed check of a current target, e.g. to count results and RTTs. */
  onResult?: (target: HealthTarget, result: CheckResult) => void;
  /** Replaces checkers per type, e.g. in tests; missing types use `defaultCheckers()`. */
  checkers?: Partial<Checkers>;
}

/** Schedules checks for a set of targets and tracks their health. */
export interface HealthMonitor {
  /** Starts every target's loop, spread over its interval; no-op if already started or stopped. */
  start(): void;
  /**
   * Replaces the target set. A target with the same key, address, port and spec keeps its status and
   * schedule (a changed region is adopted in place); removed targets stop; new ones start with a fresh
   * status, spread over their interval. A target whose spec alone changed restarts its schedule but keeps
   * its verdict and counters until the new checks say otherwise. Throws RangeError listing every invalid target; no-op
   * after `stop()`.
   */
  update(targets: HealthTarget[]): void;
  /** Copies of the current targets' statuses, in target order. */
  status(): TargetStatus[];
  /** Copy of one current target's status. */
  get(key: string): TargetStatus | undefined;
  /** True once every current target has at least one result; true with no targets. */
  firstRoundDone(): boolean;
  /** Resolves when `firstRoundDone()` becomes true; rejects if the monitor is stopped first. */
  whenFirstRoundDone(): Promise<void>;
  /** Clears all timers, aborts checks in flight and waits for them to settle; results after stop are dropped. */
  stop(): Promise<void>;
}

interface Probe {
  target: HealthTarget;
  status: TargetStatus;
  timer: NodeJS.Timeout | undefined;
  /** Aborted when the target is removed or the monitor stops. */
  abort: AbortController;
  /** performance.now() time the next check is due to start. */
  plannedStartMs: number;
}

const MAX_MS = 86_400_000;

/**
 * Creates a monitor. Each target runs its own loop: check, then start the next check `intervalMs`
 * after the previous planned start (so slow checks do not stretch the period), or as soon as the
 * previous check finishes if it overran; never two checks in flight for one target. Target i of n
 * first starts `floor(i * intervalMs / n)` ms after `start()`, so probes do not all fire together.
 * Throws RangeError listing every invalid target.
 */
export function createHealthMonitor(opts: HealthMonitorOptions): HealthMonitor {
  const checkers: Checkers = { ...defaultCheckers(), ...opts.checkers };
  const { log } = opts;
  const inflight = new Set<Promise<void>>();
  let waiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  let phase: 'idle' | 'running' | 'stopped' = 'idle';
  let probes = new Map<string, Probe>();

  validateTargets(opts.targets, checkers);
  for (const t of opts.targets) probes.set(t.key, newProbe(t));

  function schedule(p: Probe): void {
    const delay = Math.max(0, p.plannedStartMs - performance.now());
    p.timer = setTimeout(() => {
      p.timer = undefined;
      const run = runCheck(p)
        .catch((e: unknown) => log.error({ err: e, key: p.target.key }, 'health check loop failed'))
        .finally(() => inflight.delete(run));
      inflight.add(run);
    }, delay);
  }

  function spread(list: Probe[]): void {
    const now = performance.now();
    list.forEach((p, i) => {
      p.plannedStartMs = now + Math.floor((i * p.target.spec.intervalMs) / list.length);
      schedule(p);
    });
  }

  async function runCheck(p: Probe): Promise<void> {
    const { target } = p;
    const startedMs = performance.now();
    const result = await safeCheck(checkers[target.spec.type], target, p.abort.signal);
    // A removed or stopped target's late result must not resurrect it or reach the callbacks.
    if (p.abort.signal.aborted) return;
    record(p, result);
    // A callback may have called update() or stop() and retired this probe.
    if (p.abort.signal.aborted) return;
    // From the actual start, not the planned one: timer lateness then never shortens a period below
    // intervalMs. An overrun (now past that point) starts the next check immediately.
    p.plannedStartMs = Math.max(startedMs + target.spec.intervalMs, performance.now());
    schedule(p);
  }

  function record(p: Probe, result: CheckResult): void {
    const prev = p.status;
    const { status, changed } = observe(prev, result, p.target.spec, new Date());
    p.status = status;
    guard('onResult', () => opts.onResult?.(p.target, result));
    if (changed) {
      const { key, address, port, region, healthy, lastError } = status;
      log.info({ key, address, port, region, healthy, error: lastError }, 'health changed');
      guard('onChange', () => opts.onChange?.(copyStatus(status), copyStatus(prev)));
    }
    settleWaiters();
  }

  function guard(name: string, fn: () => void): void {
    try {
      fn();
    } catch (e: unknown) {
      // A throwing callback is a caller bug; it must not stop this target's check loop.
      log.error({ err: e, callback: name }, 'health monitor callback threw');
    }
  }

  function retire(p: Probe): void {
    clearTimeout(p.timer);
    p.timer = undefined;
    p.abort.abort();
  }

  function firstRoundDone(): boolean {
    for (const p of probes.values()) if (p.status.checks === 0) return false;
    return true;
  }

  function settleWaiters(): void {
    if (waiters.length === 0 || !firstRoundDone()) return;
    const done = waiters;
    waiters = [];
    for (const w of done) w.resolve();
  }

  return {
    start() {
      if (phase !== 'idle') return;
      phase = 'running';
      spread([...probes.values()]);
    },
    update(targets) {
      if (phase === 'stopped') return;
      validateTargets(targets, checkers);
      const next = new Map<string, Probe>();
      const fresh: Probe[] = [];
      for (const t of targets) {
        const old = probes.get(t.key);
        if (old !== undefined && sameProbe(old.target, t)) {
          old.target = t;
          if (old.status.region !== t.region) old.status = { ...old.status, region: t.region };
          next.set(t.key, old);
        } else {
          const p = newProbe(t);
          // Same backend, new check settings: keep the verdict until the new probe has evidence, so a reload
          // that only tunes an interval or a path does not pull healthy backends out of answers.
          if (old !== undefined && old.target.address === t.address && old.target.port === t.port) {
            p.status = { ...copyStatus(old.status), region: t.region };
          }
          next.set(t.key, p);
          fresh.push(p);
        }
      }
      for (const [key, p] of probes) if (next.get(key) !== p) retire(p);
      probes = next;
      if (phase === 'running') spread(fresh);
      settleWaiters();
    },
    status: () => [...probes.values()].map((p) => copyStatus(p.status)),
    get(key) {
      const p = probes.get(key);
      return p === undefined ? undefined : copyStatus(p.status);
    },
    firstRoundDone,
    whenFirstRoundDone() {
      if (firstRoundDone()) return Promise.resolve();
      if (phase === 'stopped') return Promise.reject(stoppedError());
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    async stop() {
      if (phase !== 'stopped') {
        phase = 'stopped';
        for (const p of probes.values()) retire(p);
        const pending = waiters;
        waiters = [];
        for (const w of pending) w.reject(stoppedError());
      }
      await Promise.allSettled([...inflight]);
    },
  };
}

function newProbe(target: HealthTarget): Probe {
  return {
    target,
    status: initialStatus(target),
    timer: undefined,
    abort: new AbortController(),
    plannedStartMs: 0,
  };
}

function stoppedError(): Error {
  return new Error('health monitor stopped before every target had a result');
}

async function safeCheck(checker: Checker, target: HealthTarget, signal: AbortSignal): Promise<CheckResult> {
  const started = performance.now();
  try {
    return await checker(target, target.spec, { signal });
  } catch (e: unknown) {
    // Checkers are documented never to reject; an injected one that does still yields a failed check.
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, rttMs: performance.now() - started, error: `checker failed: ${message}` };
  }
}

/** True when two targets probe the same thing the same way (key aside; region does not affect probing). */
export function sameProbe(a: HealthTarget, b: HealthTarget): boolean {
  const x = a.spec;
  const y = b.spec;
  return (
    a.address === b.address &&
    a.port === b.port &&
    x.type === y.type &&
    x.intervalMs === y.intervalMs &&
    x.timeoutMs === y.timeoutMs &&
    x.path === y.path &&
    x.host === y.host &&
    x.failureThreshold === y.failureThreshold &&
    x.successThreshold === y.successThreshold &&
    x.expectedStatus.length === y.expectedStatus.length &&
    x.expectedStatus.every((r, i) => r.min === y.expectedStatus[i]?.min && r.max === y.expectedStatus[i]?.max)
  );
}

function copyStatus(s: TargetStatus): TargetStatus {
  return { ...s, lastCheck: s.lastCheck === undefined ? undefined : new Date(s.lastCheck.getTime()) };
}

/** Rejects targets the scheduler cannot run: duplicate keys, unknown types, out-of-range timings or ports. */
function validateTargets(targets: readonly HealthTarget[], checkers: Checkers): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  const inRange = (v: number, min: number, max: number): boolean =>
    Number.isInteger(v) && v >= min && v <= max;
  for (const [i, t] of targets.entries()) {
    const at = `targets[${i}] (key ${JSON.stringify(t.key)})`;
    if (seen.has(t.key)) problems.push(`${at}: duplicate key`);
    seen.add(t.key);
    if (!Object.hasOwn(checkers, t.spec.type)) {
      problems.push(`${at}: spec.type ${JSON.stringify(t.spec.type)} is not one of http, https, tcp`);
    }
    if (!inRange(t.port, 1, 65535)) problems.push(`${at}: port ${t.port} not an integer in [1, 65535]`);
    if (!inRange(t.spec.intervalMs, 1, MAX_MS)) {
      problems.push(`${at}: spec.intervalMs ${t.spec.intervalMs} not an integer in [1, ${MAX_MS}]`);
    }
    if (!inRange(t.spec.timeoutMs, 1, MAX_MS)) {
      problems.push(`${at}: spec.timeoutMs ${t.spec.timeoutMs} not an integer in [1, ${MAX_MS}]`);
    }
  }
  if (problems.length > 0) throw new RangeError(`invalid health targets: ${problems.join('; ')}`);
}
