/**
 * Service addresses as another host can dial them. Nodes advertise their listeners as configured, and the seed's
 * configuration listens on wildcards (`:53`, `:8080`, `:9090`); a wildcard host is replaced by the host of the
 * member's Raft address, which its peers already reach.
 */
import { isWildcardHost, parseHostPort } from '../internal/config/checks.js';

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * `listen` with a wildcard host replaced by `raft`'s host; `listen` unchanged when its host is concrete.
 * Undefined when `listen` is not host:port, or is a wildcard and `raft` gives no concrete host.
 */
export function dialable(listen: string, raft: string): string | undefined {
  const l = parseHostPort(listen);
  if (l === undefined) return undefined;
  if (!isWildcardHost(l.host)) return formatHostPort(l.host, l.port);
  const r = parseHostPort(raft);
  if (r === undefined || isWildcardHost(r.host)) return undefined;
  return formatHostPort(r.host, l.port);
}
