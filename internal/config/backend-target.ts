/**
 * A backend target as operators and events write it: `address:port` for IPv4, `[address]:port` for IPv6
 * (RFC 3986 brackets, so the port is never ambiguous). One parser for REST paths, the gRPC admin service and
 * opengslbctl, so all three accept and refuse exactly the same strings.
 */
import { isIP } from 'node:net';

/** A parsed backend target. */
export interface BackendTarget {
  address: string;
  port: number;
}

const TARGET = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/;

/** The message every caller uses when {@link parseBackendTarget} refuses `target`. */
export function backendTargetError(target: string): string {
  return `target must be address:port or [ipv6]:port (got ${JSON.stringify(target)})`;
}

/** Parses `target`; undefined unless it is an IP literal (IPv6 bracketed) and a port in 1-65535. */
export function parseBackendTarget(target: string): BackendTarget | undefined {
  const m = TARGET.exec(target);
  if (m === null) return undefined;
  const bracketed = m[1] !== undefined;
  const address = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  const family = isIP(address);
  if (family === 0 || (bracketed && family !== 6) || port < 1 || port > 65535) return undefined;
  return { address, port };
}
