import { connect } from 'node:net';
import type { CheckOptions } from './check-attempt.js';
import { startAttempt } from './check-attempt.js';
import { unbracket } from './check-http.js';
import type { CheckAddress, CheckResult, CheckSpec } from './types.js';

/**
 * Probes `target` by opening a TCP connection: success when the handshake completes within
 * `spec.timeoutMs`; the connection is then closed without sending anything. `rttMs` is the connect time.
 *
 * Never throws or rejects: every failure is `ok: false` with a short `error`.
 */
export function checkTcp(
  target: CheckAddress,
  spec: CheckSpec,
  opts: CheckOptions = {},
): Promise<CheckResult> {
  return new Promise((resolve) => {
    const attempt = startAttempt(spec.timeoutMs, opts);
    if (attempt.signal.aborted) {
      attempt.finish();
      resolve({ ok: false, rttMs: attempt.elapsedMs(), error: attempt.describe(attempt.signal.reason) });
      return;
    }
    let settled = false;
    const socket = connect({ host: unbracket(target.address), port: target.port });
    const settle = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      attempt.finish();
      socket.destroy();
      resolve(result);
    };
    const fail = (e: unknown): void =>
      settle({ ok: false, rttMs: attempt.elapsedMs(), error: attempt.describe(e) });
    attempt.signal.addEventListener('abort', () => fail(attempt.signal.reason), { once: true });
    socket.on('error', fail);
    socket.on('connect', () => settle({ ok: true, rttMs: attempt.elapsedMs() }));
  });
}
