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
}

export function createOverwatchMetrics(registry: Registry, version: string): OverwatchMetrics {
  const m: OverwatchMetrics = {
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
  };
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
