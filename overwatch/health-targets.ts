/** Maps the configuration's regions to health-check targets: one per (region, address, port). */
import { parseStatusRanges } from '../internal/config/checks.js';
import type { OverwatchConfig, RegionConfig } from '../internal/config/overwatch-schema.js';
import type { CheckSpec, HealthTarget } from '../internal/health/index.js';
import { healthKeyOf } from './backends.js';

/** The check spec of a region; `expected_status` was validated at load, so it parses. */
export function checkSpecOf(region: RegionConfig): CheckSpec {
  const hc = region.healthCheck;
  const spec: CheckSpec = {
    type: hc.type,
    intervalMs: hc.intervalMs,
    timeoutMs: hc.timeoutMs,
    path: hc.path,
    expectedStatus: parseStatusRanges(hc.expectedStatus) ?? [{ min: 200, max: 299 }],
    failureThreshold: hc.failureThreshold,
    successThreshold: hc.successThreshold,
  };
  if (hc.host !== '') spec.host = hc.host;
  return spec;
}

/** Every static server of every region, deduplicated by health key. */
export function healthTargetsOf(config: OverwatchConfig): HealthTarget[] {
  const seen = new Set<string>();
  const out: HealthTarget[] = [];
  for (const region of config.regions) {
    const spec = checkSpecOf(region);
    for (const s of region.servers) {
      const key = healthKeyOf(region.name, s.address, s.port);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ key, address: s.address, port: s.port, region: region.name, spec });
    }
  }
  return out;
}
