/**
 * The overwatch's metric families. Labels are bounded: query type from a fixed set, rcode, region — never a
 * query name or a client address.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AgentRecord } from './agent-registry.js';
import { formatTarget } from './backends.js';
import { predictiveStateValue } from './proto-convert.js';

/** Query types counted by name; everything else is `OTHER`, so a scan of odd types cannot explode the series. */
const COUNTED_QTYPES = new Set([
  'A',
  'AAAA',
  'ANY',
  'CAA',
  'CNAME',
  'HTTPS',
  'MX',
  'NS',
  'PTR',
  'SOA',
  'SRV',
  'SVCB',
  'TXT',
]);

export function qtypeLabel(type: string): string {
  return COUNTED_QTYPES.has(type) ? type : 'OTHER';
}

export interface OverwatchMetrics {
  dnsQueries: Counter<'qtype' | 'rcode'>;
  dnsQueryDuration: Histogram;
  dnsDropped: Counter<'reason'>;
  dnsRefused: Counter;
  healthCheckResults: Counter<'region' | 'result'>;
  healthyServers: Gauge<'region'>;
  configReloads: Counter<'result'>;
  appInfo: Gauge<'version'>;
  agentsConnected: Gauge;
  agentStale: Counter;
  agentReports: Counter<'result'>;
  agentRejected: Counter<'code'>;
  predictiveState: Gauge<'service' | 'backend' | 'signal'>;
  agentCpu: Gauge<'agent'>;
  agentMemory: Gauge<'agent'>;
  agentErrorRate: Gauge<'agent'>;
  vetoes: Counter<'mode' | 'applied'>;
  validationChecks: Counter<'result'>;
  effectiveWeight: Gauge<'service' | 'backend'>;
  overridesActive: Gauge;
  overrideAge: Gauge<'service' | 'backend' | 'action'>;
  panic: Gauge<'service'>;
  clusterIsLeader: Gauge;
  clusterState: Gauge;
  clusterMembers: Gauge;
  clusterLeaderChanges: Counter;
  clusterTerm: Gauge;
  clusterCommitIndex: Gauge;
  clusterAppliedIndex: Gauge;
  clusterSnapshotIndex: Gauge;
  clusterLastContact: Gauge;
}

export function createOverwatchMetrics(registry: Registry, version: string): OverwatchMetrics {
  const m = {
    dnsQueries: new Counter({
      name: 'opengslb_dns_queries_total',
      help: 'DNS queries answered, by query type and response code.',
      labelNames: ['qtype', 'rcode'],
      registers: [registry],
    }),
    dnsQueryDuration: new Histogram({
      name: 'opengslb_dns_query_duration_seconds',
      help: 'Time to compute and encode a DNS answer.',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
      registers: [registry],
    }),
    dnsDropped: new Counter({
      name: 'opengslb_dns_dropped_total',
      help: 'DNS packets dropped without an answer (unreadable header, or a response packet).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    dnsRefused: new Counter({
      name: 'opengslb_dns_refused_total',
      help: 'DNS queries answered REFUSED (outside our zones, or a non-leader node in cluster mode).',
      registers: [registry],
    }),
    healthCheckResults: new Counter({
      name: 'opengslb_health_check_results_total',
      help: 'Completed health checks, by region and result.',
      labelNames: ['region', 'result'],
      registers: [registry],
    }),
    healthyServers: new Gauge({
      name: 'opengslb_healthy_servers',
      help: 'Servers currently healthy, by region.',
      labelNames: ['region'],
      registers: [registry],
    }),
    configReloads: new Counter({
      name: 'opengslb_config_reloads_total',
      help: 'Configuration reloads (SIGHUP), by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    appInfo: new Gauge({
      name: 'opengslb_app_info',
      help: 'Build information; always 1.',
      labelNames: ['version'],
      registers: [registry],
    }),
    agentsConnected: new Gauge({
      name: 'opengslb_agents_connected',
      help: 'Agents with an open stream to this node.',
      registers: [registry],
    }),
    agentStale: new Counter({
      name: 'opengslb_agent_stale_total',
      help: 'Times an agent went stale (no report for cluster.overwatch.stale_threshold).',
      registers: [registry],
    }),
    agentReports: new Counter({
      name: 'opengslb_agent_reports_total',
      help: 'Agent reports received, by result (accepted, throttled).',
      labelNames: ['result'],
      registers: [registry],
    }),
    agentRejected: new Counter({
      name: 'opengslb_agent_rejected_total',
      help: 'Agent streams refused, by gRPC status (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, ...).',
      labelNames: ['code'],
      registers: [registry],
    }),
    predictiveState: new Gauge({
      name: 'opengslb_predictive_state',
      help: 'Predictive state an agent reports for a backend and signal: 0 ok, 1 warning, 2 bleed.',
      labelNames: ['service', 'backend', 'signal'],
      registers: [registry],
    }),
    agentCpu: new Gauge({
      name: 'opengslb_agent_cpu_percent',
      help: 'Host CPU utilisation an agent reports, percent.',
      labelNames: ['agent'],
      registers: [registry],
    }),
    agentMemory: new Gauge({
      name: 'opengslb_agent_memory_percent',
      help: 'Host memory utilisation an agent reports, percent.',
      labelNames: ['agent'],
      registers: [registry],
    }),
    agentErrorRate: new Gauge({
      name: 'opengslb_agent_error_rate_percent',
      help: 'Error rate an agent reports, percent.',
      labelNames: ['agent'],
      registers: [registry],
    }),
  } as OverwatchMetrics;
  Object.assign(m, {
    vetoes: new Counter({
      name: 'opengslb_overwatch_vetoes_total',
      help: 'Vetoes of agent claims by external validation, by veto mode; applied="false" when only recorded (permissive, minority).',
      labelNames: ['mode', 'applied'],
      registers: [registry],
    }),
    validationChecks: new Counter({
      name: 'opengslb_overwatch_validation_checks_total',
      help: "The overwatch's own probes of agent backends, by result.",
      labelNames: ['result'],
      registers: [registry],
    }),
    effectiveWeight: new Gauge({
      name: 'opengslb_backend_effective_weight',
      help: 'Weight a backend has in answers now (configured weight times the decided share; 0 = out).',
      labelNames: ['service', 'backend'],
      registers: [registry],
    }),
    overridesActive: new Gauge({
      name: 'opengslb_overrides_active',
      help: 'Operator overrides in force.',
      registers: [registry],
    }),
    overrideAge: new Gauge({
      name: 'opengslb_override_age_seconds',
      help: 'Age of each operator override in force.',
      labelNames: ['service', 'backend', 'action'],
      registers: [registry],
    }),
    panic: new Gauge({
      name: 'opengslb_overwatch_panic',
      help: '1 while bleeding in a service is held at cluster.overwatch.panic_threshold.',
      labelNames: ['service'],
      registers: [registry],
    }),
    clusterIsLeader: new Gauge({
      name: 'opengslb_cluster_is_leader',
      help: '1 if this node is the leader (a standalone node is).',
      registers: [registry],
    }),
    clusterState: new Gauge({
      name: 'opengslb_cluster_state',
      help: 'Raft state: 0 follower, 1 candidate, 2 leader.',
      registers: [registry],
    }),
    clusterMembers: new Gauge({
      name: 'opengslb_cluster_members',
      help: 'Cluster members: on the leader those heard from within the election timeout, elsewhere every member of the configuration.',
      registers: [registry],
    }),
    clusterTerm: new Gauge({
      name: 'opengslb_cluster_term',
      help: 'Current Raft term (0 in standalone mode).',
      registers: [registry],
    }),
    clusterCommitIndex: new Gauge({
      name: 'opengslb_cluster_commit_index',
      help: 'Highest log index known committed.',
      registers: [registry],
    }),
    clusterAppliedIndex: new Gauge({
      name: 'opengslb_cluster_applied_index',
      help: 'Highest log index applied to the state machine.',
      registers: [registry],
    }),
    clusterSnapshotIndex: new Gauge({
      name: 'opengslb_cluster_snapshot_index',
      help: 'Last log index covered by the latest Raft snapshot (0: none yet; standalone: 0).',
      registers: [registry],
    }),
    clusterLastContact: new Gauge({
      name: 'opengslb_cluster_last_contact_seconds',
      help: 'Seconds since this node last heard from the leader, or since start if never (0 on the leader and standalone).',
      registers: [registry],
    }),
    clusterLeaderChanges: new Counter({
      name: 'opengslb_cluster_leader_changes_total',
      help: 'Leader changes seen by this node.',
      registers: [registry],
    }),
  });
  for (const mode of ['strict', 'balanced', 'permissive']) {
    for (const applied of ['true', 'false']) m.vetoes.inc({ mode, applied }, 0);
  }
  for (const result of ['success', 'failure']) m.validationChecks.inc({ result }, 0);
  m.appInfo.set({ version }, 1);
  m.agentsConnected.set(0);
  m.agentStale.inc(0);
  for (const result of ['accepted', 'throttled']) m.agentReports.inc({ result }, 0);
  // Zero-initialise so rate() and alerts see the series before the first event.
  m.configReloads.inc({ result: 'success' }, 0);
  m.configReloads.inc({ result: 'failure' }, 0);
  m.dnsRefused.inc(0);
  return m;
}

/**
 * Recomputes the per-agent gauges from the registry: series of agents that left disappear instead of
 * freezing at their last value. Cardinality is bounded by agents and their backends, never by clients.
 */
export function refreshAgentGauges(m: OverwatchMetrics, agents: readonly AgentRecord[]): void {
  m.agentsConnected.set(agents.filter((a) => a.connected).length);
  for (const g of [m.predictiveState, m.agentCpu, m.agentMemory, m.agentErrorRate]) g.reset();
  for (const a of agents) {
    if (a.report === undefined) continue;
    m.agentCpu.set({ agent: a.id }, a.report.cpuPercent);
    m.agentMemory.set({ agent: a.id }, a.report.memoryPercent);
    m.agentErrorRate.set({ agent: a.id }, a.report.errorRatePercent);
    for (const b of a.backends) {
      for (const r of a.report.signals) {
        m.predictiveState.set(
          { service: b.service, backend: formatTarget(b.address, b.port), signal: r.signal },
          predictiveStateValue(r.state),
        );
      }
    }
  }
}

/** Recomputes the decision gauges (effective weights, overrides, panic) from the serving state. */
export function refreshDecisionGauges(
  m: OverwatchMetrics,
  backends: ReadonlyArray<{ service: string; address: string; port: number; weight: number }>,
  fractionOf: (b: { service: string; address: string; port: number }) => number,
  overrides: ReadonlyArray<{
    service: string;
    address: string;
    port: number;
    action: string;
    createdMs: number;
  }>,
  panicServices: ReadonlySet<string>,
  nowMs: number,
): void {
  m.effectiveWeight.reset();
  for (const b of backends) {
    m.effectiveWeight.set(
      { service: b.service, backend: formatTarget(b.address, b.port) },
      b.weight * fractionOf(b),
    );
  }
  m.overridesActive.set(overrides.length);
  m.overrideAge.reset();
  for (const o of overrides) {
    m.overrideAge.set(
      { service: o.service, backend: formatTarget(o.address, o.port), action: o.action },
      Math.max(0, (nowMs - o.createdMs) / 1000),
    );
  }
  m.panic.reset();
  for (const s of new Set(backends.map((b) => b.service)))
    m.panic.set({ service: s }, panicServices.has(s) ? 1 : 0);
}
