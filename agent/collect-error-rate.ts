/**
 * The error-rate signal, as a percentage over the overwatch's `cluster.predictive_health.error_rate.window`:
 *
 * (a) `health_checks`: failed local checks / all local checks in the window (every backend of the agent).
 * (b) `prometheus`: the increase of the failed-request counter series / the increase of all its series
 *     between the first and last scrape in the window, scraped from the application's metrics endpoint.
 *
 * The window arithmetic is pure (time is a parameter); the sources wrap it with a clock and, for (b), fetch.
 */
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { performance } from 'node:perf_hooks';
import { type LabelMatcher, matchesLabels, parseLabelSelector } from '../internal/config/label-selector.js';
import { type PromSample, parsePromText } from './prom-text.js';
import type { SignalSource } from './signal-source.js';

/** Bound on remembered check outcomes or scrapes, whatever the window and rate. */
export const MAX_WINDOW_ENTRIES = 10_000;

function trim<T extends { tMs: number }>(ring: readonly T[], windowMs: number, nowMs: number): T[] {
  const start = nowMs - windowMs;
  const kept = ring.filter((e) => e.tMs >= start);
  return kept.length > MAX_WINDOW_ENTRIES ? kept.slice(kept.length - MAX_WINDOW_ENTRIES) : kept;
}

// --- (a) local health checks -------------------------------------------------------------------------

/** One completed local check. */
export interface CheckOutcome {
  /** Completion time, ms on the caller's monotonic clock. */
  tMs: number;
  ok: boolean;
}

/** Appends `outcome` and drops outcomes older than the window ending at `outcome.tMs`. Returns a new array. */
export function recordOutcome(
  ring: readonly CheckOutcome[],
  outcome: CheckOutcome,
  windowMs: number,
): CheckOutcome[] {
  return trim([...ring, outcome], windowMs, outcome.tMs);
}

/** Failed checks in the window ending at `nowMs`, as a percentage; 0 when there were none at all. */
export function failurePercent(ring: readonly CheckOutcome[], windowMs: number, nowMs: number): number {
  const start = nowMs - windowMs;
  let all = 0;
  let failed = 0;
  for (const o of ring) {
    if (o.tMs < start || o.tMs > nowMs) continue;
    all++;
    if (!o.ok) failed++;
  }
  return all === 0 ? 0 : (failed / all) * 100;
}

/** The `health_checks` source: the wiring calls `record` on every completed local check. */
export interface CheckErrorRateSource extends SignalSource {
  record(ok: boolean): void;
}

export interface CheckErrorRateOptions {
  /** The current window in ms (the policy may change while running). */
  windowMs: () => number;
  /** Monotonic clock in ms; default `performance.now()`. */
  now?: () => number;
}

/** Error rate from local check outcomes. */
export function createCheckErrorRateSource(opts: CheckErrorRateOptions): CheckErrorRateSource {
  const now = opts.now ?? (() => performance.now());
  let ring: CheckOutcome[] = [];
  return {
    record: (ok) => {
      ring = recordOutcome(ring, { tMs: now(), ok }, opts.windowMs());
    },
    read: async () => failurePercent(ring, opts.windowMs(), now()),
  };
}

// --- (b) Prometheus counters --------------------------------------------------------------------------

/** The counter sums of one scrape. */
export interface CounterScrape {
  tMs: number;
  /** Sum over every series of the metric. */
  total: number;
  /** Sum over the series the error selector matches. */
  errors: number;
}

/** Sums the finite samples named `metric`: all of them, and those matching `matchers`. */
export function sumCounter(
  samples: readonly PromSample[],
  metric: string,
  matchers: readonly LabelMatcher[],
): { total: number; errors: number; series: number } {
  let total = 0;
  let errors = 0;
  let series = 0;
  for (const s of samples) {
    if (s.name !== metric || !Number.isFinite(s.value)) continue;
    series++;
    total += s.value;
    if (matchesLabels(s.labels, matchers)) errors += s.value;
  }
  return { total, errors, series };
}

/** Appends `scrape` and drops scrapes older than the window ending at `scrape.tMs`. Returns a new array. */
export function recordScrape(
  ring: readonly CounterScrape[],
  scrape: CounterScrape,
  windowMs: number,
): CounterScrape[] {
  return trim([...ring, scrape], windowMs, scrape.tMs);
}

/**
 * Error percentage from the scrapes in the window ending at `nowMs`: increase of `errors` / increase of
 * `total` from the first scrape to the last. A decrease of either sum between two scrapes is a counter
 * reset (the application restarted, or a series vanished): the later scrape becomes the new baseline and
 * that step adds nothing. 0 with fewer than two scrapes or no new requests.
 */
export function scrapeErrorPercent(ring: readonly CounterScrape[], windowMs: number, nowMs: number): number {
  const start = nowMs - windowMs;
  let prev: CounterScrape | undefined;
  let dTotal = 0;
  let dErrors = 0;
  for (const s of ring) {
    if (s.tMs < start || s.tMs > nowMs) continue;
    if (prev !== undefined && s.total >= prev.total && s.errors >= prev.errors) {
      dTotal += s.total - prev.total;
      dErrors += s.errors - prev.errors;
    }
    prev = s;
  }
  if (dTotal <= 0) return 0;
  return Math.min(100, (dErrors / dTotal) * 100);
}

/** Largest scrape body read; an application's metrics page is far smaller. */
export const MAX_SCRAPE_BYTES = 8 * 1024 * 1024;

/**
 * GETs `url` and returns the body, bounded in time (`timeoutMs`, body included) and size; any status but
 * 2xx fails (redirects are not followed). Uses node:http rather than `fetch`: undici costs ~14 MB of RSS on
 * first use against the agent's 80 MB budget, and refuses the ports on the fetch standard's block list.
 */
export function fetchExposition(url: string, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const target = new URL(url);
    const get = target.protocol === 'https:' ? httpsGet : httpGet;
    let settled = false;
    // `timer` and `req` are assigned below before any callback that settles can run.
    const settle = (err: Error | undefined, body = ''): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err === undefined) resolve(body);
      else {
        req.destroy();
        reject(err);
      }
    };
    const fail = (why: string, cause?: unknown): void =>
      settle(new Error(`scrape ${url}: ${why}`, cause === undefined ? undefined : { cause }));
    const timer = setTimeout(() => fail(`timeout after ${timeoutMs}ms`), timeoutMs);
    const req = get(target, { headers: { accept: 'text/plain;version=0.0.4;q=1, */*;q=0.1' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        res.resume();
        fail(`HTTP ${status}`);
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_SCRAPE_BYTES) fail(`body larger than ${MAX_SCRAPE_BYTES} bytes`);
        else chunks.push(chunk);
      });
      res.on('end', () => settle(undefined, Buffer.concat(chunks).toString('utf8')));
      res.on('error', (e: Error) => fail(describeNetError(e), e));
      // After 'end' this is a no-op; before it, the server cut the body short.
      res.on('close', () => fail('connection closed before the body ended'));
    });
    req.on('error', (e: Error) => fail(describeNetError(e), e));
  });
}

function describeNetError(e: Error): string {
  return (e as NodeJS.ErrnoException).code ?? e.message;
}

export interface PrometheusErrorRateOptions {
  /** Metrics endpoint, e.g. `http://127.0.0.1:8080/metrics`. */
  url: string;
  /** Counter sample name, e.g. `http_requests_total`. */
  metric: string;
  /** Selector of the failed-request series, e.g. `code=~"5.."`. */
  errorSelector: string;
  /** Deadline of one scrape in ms. */
  timeoutMs: number;
  /** The current window in ms (the policy may change while running). */
  windowMs: () => number;
  /** Monotonic clock in ms; default `performance.now()`. */
  now?: () => number;
}

/**
 * Error rate from a Prometheus counter. Each `read()` scrapes once; call it once at a time (the report loop
 * does). It rejects (and remembers nothing) when the scrape fails or has no usable `metric` sample; it
 * resolves 0 until two scrapes are in the window. Malformed lines of the metric are skipped.
 * Throws at creation when `errorSelector` does not parse (configuration validation prevents that).
 */
export function createPrometheusErrorRateSource(opts: PrometheusErrorRateOptions): SignalSource {
  const parsed = parseLabelSelector(opts.errorSelector);
  if ('error' in parsed)
    throw new Error(`error selector ${JSON.stringify(opts.errorSelector)} ${parsed.error}`);
  const now = opts.now ?? (() => performance.now());
  let ring: CounterScrape[] = [];
  return {
    read: async () => {
      const text = await fetchExposition(opts.url, opts.timeoutMs);
      const tMs = now();
      const exposition = parsePromText(text, opts.metric);
      const sums = sumCounter(exposition.samples, opts.metric, parsed.matchers);
      if (sums.series === 0) {
        const bad = exposition.malformed === 0 ? '' : ` (${exposition.malformed} malformed lines of it)`;
        throw new Error(`scrape ${opts.url}: no ${opts.metric} samples${bad}`);
      }
      const windowMs = opts.windowMs();
      ring = recordScrape(ring, { tMs, total: sums.total, errors: sums.errors }, windowMs);
      return scrapeErrorPercent(ring, windowMs, tMs);
    },
  };
}
