/**
 * The answer table: everything the DNS hot path needs, precomputed from configuration and backend status
 * whenever either changes (DESIGN.md section 4). A query reads it and never evaluates policy.
 */
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { Backend } from './backends.js';

export type RoutingAlgorithm = OverwatchConfig['domains'][number]['routingAlgorithm'];

export interface DomainAnswers {
  name: string;
  /** Zone apex that owns this name: the longest `dns.zones` entry containing it, else the name itself. */
  apex: string;
  ttl: number;
  algorithm: RoutingAlgorithm;
  maxRecords: number;
  returnLastHealthy: boolean;
  /** Every configured backend, failover order. */
  backends: readonly Backend[];
  /** Backends currently serving, failover order. */
  serving: readonly Backend[];
  /** The most recent non-empty serving set, for `return_last_healthy`. Empty if none was ever healthy. */
  lastServing: readonly Backend[];
}

export interface ZoneInfo {
  apex: string;
  /** Names that exist in the zone: the apex, each domain, and every name between them (empty non-terminals). */
  names: ReadonlySet<string>;
  /** SOA serial: bumps with every table generation built from a new configuration. */
  serial: number;
  /** TTL of the SOA record and of negative answers (RFC 2308). */
  negativeTtl: number;
}

export interface AnswerTable {
  domains: ReadonlyMap<string, DomainAnswers>;
  zones: ReadonlyMap<string, ZoneInfo>;
}

/** Lower-case, no trailing dot: the form names take everywhere in the table. */
export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

function apexOf(name: string, zones: readonly string[]): string {
  let best: string | undefined;
  for (const z of zones) {
    if ((name === z || name.endsWith(`.${z}`)) && (best === undefined || z.length > best.length)) best = z;
  }
  return best ?? name;
}

/**
 * Builds the table. `isServing` is the single rule deciding whether a backend is in answers (today: its
 * health check; the decision engine replaces it). `previous` carries the last serving sets across rebuilds.
 */
export function buildAnswerTable(
  config: OverwatchConfig,
  backends: readonly Backend[],
  isServing: (b: Backend) => boolean,
  serial: number,
  previous?: AnswerTable,
): AnswerTable {
  const zoneList = config.dns.zones.map(canonicalName);
  const domains = new Map<string, DomainAnswers>();
  const zones = new Map<string, { names: Set<string> }>();
  for (const d of config.domains) {
    const name = canonicalName(d.name);
    const own = backends.filter((b) => b.service === d.name);
    const serving = own.filter(isServing);
    const before = previous?.domains.get(name)?.lastServing ?? [];
    const apex = apexOf(name, zoneList);
    domains.set(name, {
      name,
      apex,
      ttl: d.ttl ?? config.dns.defaultTtl,
      algorithm: d.routingAlgorithm,
      maxRecords: d.maxRecords,
      returnLastHealthy: d.returnLastHealthy,
      backends: own,
      serving,
      lastServing: serving.length > 0 ? serving : sameBackends(before, own),
    });
    const zone = zones.get(apex) ?? { names: new Set<string>([apex]) };
    // Every name from the domain up to the apex exists (RFC 8020: empty non-terminals are NOERROR, not NXDOMAIN).
    for (let n = name; n !== apex && n.includes('.'); n = n.slice(n.indexOf('.') + 1)) zone.names.add(n);
    zones.set(apex, zone);
  }
  for (const z of zoneList) if (!zones.has(z)) zones.set(z, { names: new Set([z]) });
  const zoneInfos = new Map<string, ZoneInfo>();
  for (const [apex, z] of zones) {
    zoneInfos.set(apex, { apex, names: z.names, serial, negativeTtl: config.dns.defaultTtl });
  }
  return { domains, zones: zoneInfos };
}

/**
 * Keeps the remembered set only for backends that still exist (a reload may have removed some), with the
 * weights they had while serving: their current weight is 0 because they are down.
 */
function sameBackends(before: readonly Backend[], now: readonly Backend[]): Backend[] {
  return before.filter((p) => now.some((b) => b.healthKey === p.healthKey));
}

/** The zone a name falls in (longest apex that is the name or a parent of it), if any. */
export function zoneFor(table: AnswerTable, name: string): ZoneInfo | undefined {
  for (let n = name; ; n = n.slice(n.indexOf('.') + 1)) {
    const z = table.zones.get(n);
    if (z !== undefined) return z;
    if (!n.includes('.')) return undefined;
  }
}
