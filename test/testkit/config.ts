/**
 * Typed builders for the `regions` and `domains` part of a test configuration. YAML is a superset of JSON, so
 * the objects are written as JSON flow collections after the listener block; keys are the file's snake_case.
 */
import type { TestBackend } from './backends.js';
import { listenersYaml, type Ports } from './opengslb.js';

/** `regions[].health_check`; durations as the file writes them (`200ms`). */
export interface HealthCheckYaml {
  type?: 'http' | 'https' | 'tcp';
  interval: string;
  timeout: string;
  path?: string;
  failure_threshold?: number;
  success_threshold?: number;
}

/** `regions[].servers[]`. */
export interface ServerYaml {
  address: string;
  port: number;
  weight?: number;
}

/** `regions[]`. */
export interface RegionYaml {
  name: string;
  servers: ServerYaml[];
  health_check: HealthCheckYaml;
}

/** `domains[]`. */
export interface DomainYaml {
  name: string;
  routing_algorithm?: 'round-robin' | 'weighted' | 'failover';
  regions: string[];
  ttl?: number;
  max_records?: number;
  return_last_healthy?: boolean;
}

/** `cluster.overwatch`: how agents are admitted and aged out; durations as the file writes them. */
export interface AgentPolicyYaml {
  /** Service (`domains[].name`) -> token. */
  agent_tokens?: Record<string, string>;
  /** How the overwatch's own checks overrule agents; `strict` keeps a stale agent's backend out. */
  veto_mode?: 'strict' | 'balanced' | 'permissive';
  /** Consecutive failing external rounds before they count against an agent's healthy claim. */
  veto_threshold?: number;
  /** How often the overwatch probes agent backends itself (`300ms` in tests; default 30s). */
  external_check_interval?: string;
  /** Share of a service's configured weight that bleeding may not go below, 0..1. */
  panic_threshold?: number;
  stale_threshold?: string;
  remove_after?: string;
  min_report_interval?: string;
}

/** One host signal of `cluster.predictive_health`. */
export interface HostSignalPolicyYaml {
  threshold?: number;
  bleed_duration?: string;
}

/** `cluster.predictive_health`: the policy the overwatch sends to its agents. */
export interface PredictiveHealthYaml {
  enabled?: boolean;
  cpu?: HostSignalPolicyYaml;
  memory?: HostSignalPolicyYaml;
  /** `window` is also the agent's window (and hysteresis hold) for CPU and memory. */
  error_rate?: HostSignalPolicyYaml & { window?: string };
  horizon?: string;
  /** Speed of a `warning` bleed relative to `bleed`; 0 = warnings do not bleed. */
  warning_rate?: number;
}

/** `cluster.raft.tls`: the peer certificate, its key and the CA that signs every member's. */
export interface RaftTlsYaml {
  cert_file?: string | undefined;
  key_file?: string | undefined;
  ca_file?: string | undefined;
}

/** `cluster.raft`; durations as the file writes them (`300ms`). */
export interface RaftYaml {
  heartbeat_timeout?: string;
  election_timeout?: string;
  /** Applied entries between snapshots. */
  snapshot_threshold?: number;
  tls?: RaftTlsYaml;
}

/** The `cluster` keys the tests use: agent policy (standalone or cluster), and `mode: cluster` with `raft`. */
export interface ClusterYaml {
  mode?: 'standalone' | 'cluster';
  raft?: RaftYaml;
  overwatch?: AgentPolicyYaml;
  predictive_health?: PredictiveHealthYaml;
}

/** Everything a test config varies besides the listeners. */
export interface GslbYaml {
  regions: RegionYaml[];
  domains: DomainYaml[];
  /** Extra lines inside the `api:` block, indented two spaces (e.g. `  allow_loopback: false`). */
  api?: string;
  /** Extra lines inside the `grpc:` block, indented two spaces (e.g. `  tls: {...}`). */
  grpc?: string;
  cluster?: ClusterYaml;
}

/** Quick HTTP checks within the integration-test budget: 200ms apart, 150ms deadline, fall 2, rise 2. */
export const FAST_CHECK: HealthCheckYaml = {
  type: 'http',
  interval: '200ms',
  timeout: '150ms',
  path: '/health',
  failure_threshold: 2,
  success_threshold: 2,
};

/** One server entry per backend, optionally with weights in the same order. */
export function serversOf(backends: readonly TestBackend[], weights?: readonly number[]): ServerYaml[] {
  return backends.map((b, i) => {
    const weight = weights?.[i];
    return weight === undefined
      ? { address: b.address, port: b.port }
      : { address: b.address, port: b.port, weight };
  });
}

/** A complete configuration: listeners on `ports` (all 127.0.0.1) plus the given regions and domains. */
export function gslbConfig(ports: Ports, body: GslbYaml): string {
  return [
    listenersYaml(ports, body.api ?? '', body.grpc ?? ''),
    `regions: ${JSON.stringify(body.regions)}`,
    `domains: ${JSON.stringify(body.domains)}`,
    ...(body.cluster === undefined ? [] : [`cluster: ${JSON.stringify(body.cluster)}`]),
    '',
  ].join('\n');
}
