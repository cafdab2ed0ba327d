/** Value checks shared by the schemas. Each returns a message starting with "must", or undefined. */
import { isIP } from 'node:net';

const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['', '0.0.0.0', '::', '[::]']);

/** Whether a listen host (as parseHostPort returns it) means every interface: not an address to dial. */
export function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/** `host:port`, `:port`, `[v6]:port`. Port 1..65535. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return undefined;
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  if (host !== '' && m[1] === undefined && isIP(host) === 0 && !isHostname(host)) return undefined;
  return { host, port };
}

export function checkHostPort(text: string): string | undefined {
  return parseHostPort(text) === undefined
    ? `must be host:port with a port 1..65535, e.g. ":53", "127.0.0.1:1053" or "[::1]:8080" (got ${JSON.stringify(text)})`
    : undefined;
}

export function checkIp(text: string): string | undefined {
  return isIP(text) === 0 ? `must be an IPv4 or IPv6 address (got ${JSON.stringify(text)})` : undefined;
}

/** A DNS host name (RFC 1123 labels, no trailing dot). */
export function isHostname(s: string): boolean {
  return /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/.test(
    s,
  );
}

/** A DNS name we can be authoritative for: labels of letters, digits, hyphens (underscore allowed), no trailing dot. */
export function checkDomainName(text: string): string | undefined {
  const ok =
    text.length <= 253 &&
    text.split('.').length >= 2 &&
    text.split('.').every((l) => /^[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?$/.test(l));
  return ok
    ? undefined
    : `must be a fully qualified domain name like "app.example.com" (got ${JSON.stringify(text)})`;
}

export function checkCidr(text: string): string | undefined {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(text);
  const family = m === null ? 0 : isIP(m[1] as string);
  const prefix = m === null ? -1 : Number(m[2]);
  if (family === 0 || prefix < 0 || prefix > (family === 4 ? 32 : 128)) {
    return `must be a network in CIDR notation like "10.0.0.0/8" or "fd00::/8" (got ${JSON.stringify(text)})`;
  }
  return undefined;
}

/** Expected HTTP status codes: "200", "200-299", "200,204,300-399". */
export function parseStatusRanges(text: string): Array<{ min: number; max: number }> | undefined {
  const out: Array<{ min: number; max: number }> = [];
  for (const part of text.split(',').map((s) => s.trim())) {
    const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
    if (m === null) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : Number(m[2]);
    if (min < 100 || max > 599 || min > max) return undefined;
    out.push({ min, max });
  }
  return out;
}

export function checkStatusRanges(text: string): string | undefined {
  return parseStatusRanges(text) === undefined
    ? `must be HTTP status codes or ranges like "200-299" or "200,204" (got ${JSON.stringify(text)})`
    : undefined;
}

export function checkName(text: string): string | undefined {
  return /^[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}$/.test(text)
    ? undefined
    : `must be 1-63 letters, digits, ".", "_" or "-" (got ${JSON.stringify(text)})`;
}
