import { performance } from 'node:perf_hooks';

/** Options shared by the checkers. */
export interface CheckOptions {
  /** Aborts the attempt early (e.g. monitor stop); the result is then `ok: false, error: 'aborted'`. */
  signal?: AbortSignal;
}

/** The bounded lifetime of one check attempt: a deadline, an abort signal and an RTT clock. */
export interface Attempt {
  /** Aborted when the deadline passes or the caller's signal aborts, whichever is first. */
  signal: AbortSignal;
  /** Milliseconds since the attempt started. */
  elapsedMs(): number;
  /** Short reason for a failure: the deadline or caller abort wins over the socket error it caused. */
  describe(e: unknown): string;
  /** Clears the deadline timer and detaches from the caller's signal; call exactly once when settled. */
  finish(): void;
}

/**
 * Starts the clock and the deadline for one attempt. The deadline timer is not unref'd: an attempt in
 * flight keeps the process alive only until its timeout, and `finish()` clears it.
 */
export function startAttempt(timeoutMs: number, opts: CheckOptions = {}): Attempt {
  const started = performance.now();
  const controller = new AbortController();
  let reason: string | undefined;
  const abort = (why: string): void => {
    if (reason !== undefined) return;
    reason = why;
    controller.abort(new Error(why));
  };
  const timer = setTimeout(() => abort(`timeout after ${timeoutMs}ms`), timeoutMs);
  const onCallerAbort = (): void => abort('aborted');
  const outer = opts.signal;
  if (outer?.aborted) onCallerAbort();
  else outer?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    elapsedMs: () => performance.now() - started,
    describe: (e) => reason ?? describeNetworkError(e),
    finish: () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onCallerAbort);
    },
  };
}

const codeMessages: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'connect timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name lookup failed',
  ECONNABORTED: 'connection aborted',
};

/**
 * Maps a socket, TLS or HTTP parser error to a short, stable reason; unknown errors keep their code and
 * the first line of their message so operators can still search for them.
 */
export function describeNetworkError(e: unknown): string {
  if (!(e instanceof Error)) return `check failed: ${String(e)}`;
  const code = 'code' in e && typeof e.code === 'string' ? e.code : undefined;
  const message = (e.message.split('\n')[0] ?? '').trim();
  // node:http reports a peer that closes without answering as ECONNRESET 'socket hang up'.
  if (message === 'socket hang up') return 'connection closed before response';
  const mapped = code === undefined ? undefined : codeMessages[code];
  if (mapped !== undefined) return mapped;
  if (code !== undefined && (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO')) {
    // OpenSSL errors carry a short `reason` ('wrong version number'); when only the raw message exists
    // (EPROTO) it embeds the reason between error-stack fields and source paths.
    const reason = 'reason' in e && typeof e.reason === 'string' ? e.reason : undefined;
    return `tls error: ${reason ?? /SSL routines:[^:]*:([^:]+)/.exec(message)?.[1] ?? message}`;
  }
  if (code?.startsWith('HPE_')) return `invalid http response: ${message}`;
  return code === undefined ? message : `${code}: ${message}`;
}
