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
        });
      }
    }
  }
  return out;
}
