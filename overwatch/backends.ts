/**
 * The backends a configuration defines, flattened: one entry per (domain, region, server), in failover order
 * (the domain's regions in order, each region's servers in order). A server shared by several domains appears
 * once per domain but is probed once (its health key is per region and address:port).
 */
import { isIP } from 'node:net';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';

export interface Backend {
  /** Health identity: `region/address:port` (IPv6 bracketed). */
  healthKey: string;
  /** The domain (service) this entry serves. */
  service: string;
  region: string;
  address: string;
  port: number;
  /** Configured weight, 0..1000. */
  weight: number;
  family: 4 | 6;
  /** The agent fronting this backend; undefined for a backend only the static configuration knows. */
  agentId: string | undefined;
  /** In the answer table only: the decided share of the configured weight (0..1). */
  share?: number;
}

/** `service|address:port`: a backend's identity across static config, agents, decisions and overrides. */
export function backendKey(b: { service: string; address: string; port: number }): string {
  return `${b.service}|${b.address}:${b.port}`;
}

/** `region/10.0.0.1:80` or `region/[2001:db8::1]:80`. */
export function healthKeyOf(region: string, address: string, port: number): string {
  return `${region}/${formatTarget(address, port)}`;
}

/** `10.0.0.1:80` or `[2001:db8::1]:80`, as REST paths and logs write a target. */
export function formatTarget(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Every backend of every domain, in failover order. */
export function backendsOf(config: OverwatchConfig): Backend[] {
  const regions = new Map(config.regions.map((r) => [r.name, r]));
  const out: Backend[] = [];
  for (const domain of config.domains) {
    for (const regionName of domain.regions) {
      const region = regions.get(regionName);
      if (region === undefined) continue; // rejected by validation; tolerated here so a partial table still builds
      for (const s of region.servers) {
        out.push({
          healthKey: healthKeyOf(region.name, s.address, s.port),
          service: domain.name,
          region: region.name,
          address: s.address,
          port: s.port,
          weight: s.weight,
          family: isIP(s.address) === 6 ? 6 : 4,
          agentId: undefined,
        });
      }
    }
  }
  return out;
}

/** An agent's backend announcement, as the merge needs it. */
export interface AnnouncedBackend {
  agentId: string;
  region: string;
  service: string;
  address: string;
  port: number;
  weight: number;
}

/**
 * Static backends plus those agents announce. A static backend an agent also announces becomes agent-fronted
 * (the agent's claim decides, DESIGN.md section 5); an announced one the configuration lacks is added to its
 * service after the static backends of the agent's region (or at the end when the domain does not list that
 * region), so failover order stays the operator's.
 */
export function mergeAgentBackends(
  config: OverwatchConfig,
  statics: readonly Backend[],
  announced: readonly AnnouncedBackend[],
): Backend[] {
  const out = statics.map((b) => ({ ...b }));
  const key = backendKey;
  const index = new Map(out.map((b, i) => [key(b), i]));
  for (const a of announced) {
    const existing = index.get(key(a));
    if (existing !== undefined) {
      const b = out[existing] as Backend;
      b.agentId = a.agentId;
      continue;
    }
    const domain = config.domains.find((d) => d.name === a.service);
    if (domain === undefined) continue; // the agent service rejects unknown services before this point
    const added: Backend = {
      healthKey: `agent:${a.agentId}/${formatTarget(a.address, a.port)}`,
      service: a.service,
      region: a.region,
      address: a.address,
      port: a.port,
      weight: a.weight,
      family: isIP(a.address) === 6 ? 6 : 4,
      agentId: a.agentId,
    };
    const order = domain.regions.indexOf(a.region);
    let at = out.length;
    if (order >= 0) {
      const later = out.findIndex((b) => b.service === a.service && domain.regions.indexOf(b.region) > order);
      if (later >= 0) at = later;
    }
    out.splice(at, 0, added);
    index.clear();
    for (const [i, b] of out.entries()) index.set(key(b), i);
  }
  return out;
}
