import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, isIPv6 } from 'node:net';
import type { CheckOptions } from './check-attempt.js';
import { startAttempt } from './check-attempt.js';
import type { CheckAddress, CheckResult, CheckSpec, StatusRange } from './types.js';

/** Response body bytes read before the check concludes and drops the connection. */
export const MAX_BODY_BYTES = 64 * 1024;

const USER_AGENT = 'opengslb-health-check';

/** Returns a fresh copy of the status ranges used when a spec lists none: 200-299. */
export function defaultExpectedStatus(): StatusRange[] {
  return [{ min: 200, max: 299 }];
}

/** True when `code` lies in any of the inclusive `ranges`; an empty list means `defaultExpectedStatus()`. */
export function statusInRanges(code: number, ranges: readonly StatusRange[]): boolean {
  const effective = ranges.length === 0 ? defaultExpectedStatus() : ranges;
  return effective.some((r) => code >= r.min && code <= r.max);
}

/** Renders ranges for error messages: `200-299`, `204`, `200-299,404`. */
export function formatStatusRanges(ranges: readonly StatusRange[]): string {
  const effective = ranges.length === 0 ? defaultExpectedStatus() : ranges;
  return effective.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(',');
}

/** Strips the brackets of a URL-style IPv6 literal (`[::1]` -> `::1`); other addresses pass through. */
export function unbracket(address: string): string {
  return address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
}

/**
 * The Host header for a check: `host` verbatim when given, else the address (bracketed when IPv6) plus
 * `:port` unless it is the scheme's default port (RFC 9110 §7.2).
 */
export function hostHeader(target: CheckAddress, scheme: 'http' | 'https', host?: string): string {
  if (host !== undefined && host !== '') return host;
  const address = unbracket(target.address);
  const name = isIPv6(address) ? `[${address}]` : address;
  const defaultPort = scheme === 'https' ? 443 : 80;
  return target.port === defaultPort ? name : `${name}:${target.port}`;
}

/**
 * The TLS SNI name for a check: the configured host without any `:port`, or '' (no SNI) when there is
 * no host or it is an IP literal, which RFC 6066 §3 forbids in SNI.
 */
export function sniName(host: string | undefined): string {
  if (host === undefined || host.startsWith('[') || isIP(host) !== 0) return '';
  const name = host.replace(/:\d+$/, '');
  // Any colon left means an unbracketed IPv6 literal or something that is not a DNS name.
  return isIP(name) === 0 && !name.includes(':') ? name : '';
}

/**
 * Probes `target` with `GET spec.path` over http or https. Succeeds when the status is in
 * `spec.expectedStatus` and the response completes (or `MAX_BODY_BYTES` of body arrive) within
 * `spec.timeoutMs`, which bounds connect, TLS handshake, request and response together.
 *
 * Each check uses its own connection (`agent: false`, `Connection: close`), so a check never rides on a
 * connection a previous check left open and measures a fresh connect.
 *
 * https does NOT verify the server certificate (`rejectUnauthorized: false`), like HAProxy's
 * `check-ssl verify none`: the check establishes that an IP-addressed backend completes a TLS handshake
 * and answers, not that its certificate matches a name clients will use. Do not reuse this for
 * anything that trusts the response content.
 *
 * Never throws or rejects: every failure is `ok: false` with a short `error`.
 */
export function checkHttp(
  target: CheckAddress,
  spec: CheckSpec,
  scheme: 'http' | 'https',
  opts: CheckOptions = {},
): Promise<CheckResult> {
  return new Promise((resolve) => {
    const attempt = startAttempt(spec.timeoutMs, opts);
    let req: ClientRequest | undefined;
    let settled = false;
    // Known once response headers arrive; reported with any later failure (timeout, truncated body).
    let statusCode: number | undefined;
    const settle = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      attempt.finish();
      // Drop the connection whatever the outcome: after a complete response this is a normal close; after a
      // timeout or the body cap it stops the transfer.
      req?.destroy();
      resolve(result);
    };
    const fail = (e: unknown): void => {
      const result: CheckResult = { ok: false, rttMs: attempt.elapsedMs(), error: attempt.describe(e) };
      if (statusCode !== undefined) result.statusCode = statusCode;
      settle(result);
    };
    // Settle from the deadline itself rather than from whatever event destroying the request emits: which
    // one fires depends on whether the response had started.
    attempt.signal.addEventListener('abort', () => fail(attempt.signal.reason), { once: true });
    if (attempt.signal.aborted) {
      fail(attempt.signal.reason);
      return;
    }

    const options: RequestOptions = {
      host: unbracket(target.address),
      port: target.port,
      method: 'GET',
      path: spec.path.startsWith('/') ? spec.path : `/${spec.path}`,
      headers: {
        host: hostHeader(target, scheme, spec.host),
        'user-agent': USER_AGENT,
        accept: '*/*',
        connection: 'close',
      },
      agent: false,
    };
    try {
      req =
        scheme === 'https'
          ? httpsRequest({ ...options, rejectUnauthorized: false, servername: sniName(spec.host) })
          : httpRequest(options);
    } catch (e: unknown) {
      // Synchronous throws are bad input such as a path with spaces (ERR_UNESCAPED_CHARACTERS).
      fail(e);
      return;
    }
    req.on('error', (e) => fail(e));
    req.on('response', (res: IncomingMessage) => {
      statusCode = res.statusCode ?? 0;
      onResponse(res, statusCode, spec, attempt.elapsedMs, settle, fail);
    });
    req.end();
  });
}

function onResponse(
  res: IncomingMessage,
  statusCode: number,
  spec: CheckSpec,
  elapsedMs: () => number,
  settle: (r: CheckResult) => void,
  fail: (e: unknown) => void,
): void {
  const conclude = (): void => {
    const rttMs = elapsedMs();
    if (statusInRanges(statusCode, spec.expectedStatus)) {
      settle({ ok: true, rttMs, statusCode });
      return;
    }
    const want = formatStatusRanges(spec.expectedStatus);
    settle({ ok: false, rttMs, statusCode, error: `unexpected status ${statusCode} (want ${want})` });
  };
  let bytes = 0;
  // Reading (and discarding) the body lets the exchange finish cleanly; the cap keeps a misbehaving
  // backend that streams forever from holding the check until its timeout.
  res.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes >= MAX_BODY_BYTES) conclude();
  });
  res.on('end', conclude);
  res.on('error', (e) => fail(e));
  res.on('close', () => {
    if (!res.complete) fail(new Error('connection closed before end of body'));
  });
}
