/**
 * Rules that span several keys of the overwatch configuration. They run after the schema walk, on the loaded
 * value, so they see defaults too.
 */
import { isWildcardHost, parseHostPort } from './checks.js';
import type { OverwatchConfig } from './overwatch-schema.js';
import { type Problem, suggestKey } from './validate.js';

const AVAILABLE_ALGORITHMS = ['round-robin', 'weighted', 'failover'];

/** Every cross-key problem of `c`, in file order. */
export function crossCheckOverwatch(c: OverwatchConfig): Problem[] {
  const problems: Problem[] = [];
  const regionNames = c.regions.map((r) => r.name);

  c.regions.forEach((r, i) => {
    if (r.healthCheck.timeoutMs > r.healthCheck.intervalMs) {
      problems.push({
        path: ['regions', i, 'health_check', 'timeout'],
        message: `must not exceed health_check.interval (${r.healthCheck.timeoutMs}ms > ${r.healthCheck.intervalMs}ms)`,
      });
    }
  });

  c.domains.forEach((d, i) => {
    if (!AVAILABLE_ALGORITHMS.includes(d.routingAlgorithm)) {
      problems.push({
        path: ['domains', i, 'routing_algorithm'],
        message: `"${d.routingAlgorithm}" is not available yet; use one of ${AVAILABLE_ALGORITHMS.join(', ')}`,
      });
    }
    if (d.regions.length === 0) {
      problems.push({ path: ['domains', i, 'regions'], message: 'must name at least one region' });
    }
    d.regions.forEach((name, j) => {
      if (regionNames.includes(name)) return;
      const hint = suggestKey(name, regionNames);
      problems.push({
        path: ['domains', i, 'regions', j],
        message: `region "${name}" is not defined in regions[]${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
      });
    });
    if (c.dns.zones.length > 0 && !c.dns.zones.some((z) => d.name === z || d.name.endsWith(`.${z}`))) {
      problems.push({
        path: ['domains', i, 'name'],
        message: `"${d.name}" is not inside any of dns.zones (${c.dns.zones.join(', ')})`,
      });
    }
  });

  const raft = c.cluster.raft;
  if (raft.electionTimeoutMs < raft.heartbeatTimeoutMs) {
    problems.push({
      path: ['cluster', 'raft', 'election_timeout'],
      message: `must be at least cluster.raft.heartbeat_timeout (${raft.electionTimeoutMs}ms < ${raft.heartbeatTimeoutMs}ms)`,
    });
  }
  // Raft TLS is mutual or absent: a server that does not verify clients would let any peer vote.
  const tls = raft.tls;
  const tlsSet = [tls.certFile, tls.keyFile, tls.caFile].filter((f) => f !== '').length;
  if (tlsSet !== 0 && tlsSet !== 3) {
    problems.push({
      path: ['cluster', 'raft', 'tls'],
      message: `cert_file, key_file and ca_file must be set together for mutual TLS between peers (${tlsSet} of 3 set)`,
    });
  }
  const gossip = c.cluster.gossip;
  if (gossip.probeTimeoutMs >= gossip.probeIntervalMs) {
    problems.push({
      path: ['cluster', 'gossip', 'probe_timeout'],
      message: `must be shorter than cluster.gossip.probe_interval (${gossip.probeTimeoutMs}ms >= ${gossip.probeIntervalMs}ms)`,
    });
  }
  if (gossip.encryptionKey !== '') {
    const bytes = Buffer.from(gossip.encryptionKey, 'base64');
    if (![16, 24, 32].includes(bytes.length) || bytes.toString('base64') !== gossip.encryptionKey) {
      problems.push({
        path: ['cluster', 'gossip', 'encryption_key'],
        message: `must be base64 of 16, 24 or 32 bytes, e.g. from "openssl rand -base64 32" (got ${bytes.length} bytes)`,
      });
    }
  }
  const ow = c.cluster.overwatch;
  if (ow.removeAfterMs < ow.staleThresholdMs) {
    problems.push({
      path: ['cluster', 'overwatch', 'remove_after'],
      message: `must be at least cluster.overwatch.stale_threshold (${ow.removeAfterMs}ms < ${ow.staleThresholdMs}ms)`,
    });
  }
  const domainNames = c.domains.map((d) => d.name);
  for (const service of Object.keys(ow.agentTokens)) {
    if (!domainNames.includes(service)) {
      problems.push({
        path: ['cluster', 'overwatch', 'agent_tokens', service],
        message: `service "${service}" is not a domains[].name`,
      });
    }
  }
  if (c.cluster.bootstrap && c.cluster.join.length > 0) {
    problems.push({
      path: ['cluster', 'join'],
      message: 'cannot be combined with cluster.bootstrap (use one)',
    });
  }
  return problems;
}

/** The Raft address peers dial: `cluster.advertise_address`, or the bind address when none is set. */
export function advertisedRaftAddress(c: OverwatchConfig): string {
  return c.cluster.advertiseAddress === '' ? c.cluster.bindAddress : c.cluster.advertiseAddress;
}

/**
 * Problems a cluster member can only be judged on at start, with flags and environment applied: the seed's
 * shared file leaves `bind_address` at its wildcard default and each node sets its own by
 * `OPENGSLB_CLUSTER_BIND_ADDRESS`, so `opengslb validate` of that file alone must not flag it.
 */
export function clusterStartProblems(c: OverwatchConfig): Problem[] {
  if (c.cluster.mode !== 'cluster') return [];
  // A wildcard would make every peer dial itself; hashicorp/raft refuses a non-advertisable address the same way.
  const raftAddress = advertisedRaftAddress(c);
  const hp = parseHostPort(raftAddress);
  if (hp === undefined || !isWildcardHost(hp.host)) return [];
  return c.cluster.advertiseAddress === ''
    ? [
        {
          path: ['cluster', 'bind_address'],
          message: `"${raftAddress}" listens on every interface, so peers cannot dial it: bind a concrete address (--bind-address 10.0.1.1:7000) or set cluster.advertise_address (--advertise-address)`,
        },
      ]
    : [
        {
          path: ['cluster', 'advertise_address'],
          message: `"${raftAddress}" is not an address peers can dial: advertise this node's own host:port`,
        },
      ];
}
