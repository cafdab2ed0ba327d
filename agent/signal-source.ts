/**
 * Where a predictive signal's values come from. The report loop calls `read()` once per report interval and
 * feeds the value to the predictor; implementations: host CPU and memory (collect-host.ts), local check
 * failures and Prometheus counters (collect-error-rate.ts), and the file and synthetic sources below for
 * integration tests and demos.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/** A signal, as a percentage. */
export interface SignalSource {
  /**
   * The current value (normally 0..100). Rejects with an Error naming the source when no value can be had
   * (unreadable file, failed scrape); the caller skips the sample and logs it, the source stays usable.
   */
  read(): Promise<number>;
}

/**
 * A source with scripted values. With a list: one value per `read()`, in order, then the last one forever
 * (an empty list reads 0). With a function: `values(now())`, e.g. `(t) => 40 + t / 1000` for a ramp of 1 %
 * per second; `now` defaults to `performance.now()`, tests pass a manual clock.
 */
export function createSyntheticSource(
  values: readonly number[] | ((tMs: number) => number),
  now: () => number = () => performance.now(),
): SignalSource {
  if (typeof values === 'function') return { read: async () => values(now()) };
  let next = 0;
  return {
    read: async () => {
      const v = values[Math.min(next, values.length - 1)] ?? 0;
      next++;
      return v;
    },
  };
}

/** Largest file the file source reads; a percentage needs a few bytes, more means the wrong file. */
const MAX_FILE_BYTES = 64;

/**
 * Reads the number in `path` (surrounding whitespace ignored, e.g. `echo 95 > /tmp/cpu`) on every `read()`,
 * so a test or demo can move a real agent's signal. The file is read anew each time, never cached. A read
 * that races a truncating writer sees an empty file and rejects; writers that must not lose a sample write
 * a temporary file and rename it over `path`.
 */
export function createFileSource(path: string): SignalSource {
  return {
    read: async () => {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e: unknown) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new Error(`signal file ${path}: cannot read: ${code ?? String(e)}`, { cause: e });
      }
      const t = text.trim();
      const value = t === '' || text.length > MAX_FILE_BYTES ? Number.NaN : Number(t);
      if (!Number.isFinite(value)) {
        throw new Error(
          `signal file ${path}: must hold one number (at most ${MAX_FILE_BYTES} bytes), got ${JSON.stringify(t.slice(0, MAX_FILE_BYTES))}`,
        );
      }
      return value;
    },
  };
}
