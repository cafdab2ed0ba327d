/**
 * REST handlers for the standalone overwatch (DESIGN.md section 7; snake_case JSON, RFC 3339 times, lists in a
 * named field). Endpoints whose feature has not landed answer 501 with the issue that brings them.
 */
import { type ApiResponse, apiError, type Route } from '../internal/api/index.js';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { TargetStatus } from '../internal/health/index.js';
import type { AgentRecord } from './agent-registry.js';
import { formatTarget } from './backends.js';
import type { ServingState } from './serving-state.js';

/** What the handlers read; every call returns current data, so reloads show up at once. */
export interface ApiView {
  version: string;
  nodeName: string;
  config(): OverwatchConfig;
  state: ServingState;
  agents(): AgentRecord[];
  ready(): boolean;
  servers(): TargetStatus[];
  serverStatus(healthKey: string): TargetStatus | undefined;
  startedAt: Date;
}

const ok = (body: unknown): ApiResponse => ({ status: 200, body });

function iso(d: Date | undefined): string | null {
  return d === undefined ? null : d.toISOString();
}

function notYet(what: string, issue: string): Route['handler'] {
  return () => apiError(501, 'not_implemented', `${what} is not available yet; it arrives with ${issue}`);
}

/** The standalone node's routes. */
export function overwatchRoutes(view: ApiView): Route[] {
  const clusterStatus = () => ({
    mode: 'standalone',
    node_id: view.nodeName,
    is_leader: true,
    leader_id: view.nodeName,
    leader_address: '',
    cluster_size: 1,
    state: 'leader',
  });
  return [
    { method: 'GET', path: '/api/v1/live', handler: () => ok({ status: 'live' }) },
    {
      method: 'GET',
      path: '/api/v1/ready',
      handler: () =>
        view.ready()
          ? ok({ ready: true })
          : { status: 503, body: { ready: false, reason: 'waiting for the first round of health checks' } },
    },
    {
      method: 'GET',
      path: '/api/v1/version',
      handler: () =>
        ok({
          version: view.version,
          node_version: process.version,
          started_at: view.startedAt.toISOString(),
        }),
    },
    {
      method: 'GET',
      path: '/api/v1/health/servers',
      handler: () =>
        ok({
          servers: view.servers().map((s) => ({
            address: s.address,
            port: s.port,
            region: s.region,
            healthy: s.healthy ?? null,
            last_check: iso(s.lastCheck),
            consecutive_failures: s.consecutiveFailures,
            consecutive_successes: s.consecutiveSuccesses,
            last_error: s.lastError ?? null,
            rtt_ms: s.rttMs === undefined ? null : Math.round(s.rttMs * 100) / 100,
          })),
        }),
    },
    {
      method: 'GET',
      path: '/api/v1/domains',
      handler: () =>
        ok({
          domains: view.config().domains.map((d) => {
            const entry = view.state.table().domains.get(d.name.toLowerCase());
            return {
              name: d.name,
              routing_algorithm: d.routingAlgorithm,
              regions: d.regions,
              ttl: d.ttl ?? view.config().dns.defaultTtl,
              max_records: d.maxRecords,
              return_last_healthy: d.returnLastHealthy,
              total_backends: entry?.backends.length ?? 0,
              healthy_backends: entry?.serving.length ?? 0,
            };
          }),
        }),
    },
    {
      method: 'GET',
      path: '/api/v1/backends',
      handler: () =>
        ok({
          backends: view.state.backends().map((b) => {
            const v = view.state.verdict(b);
            return {
              service: b.service,
              address: b.address,
              port: b.port,
              target: formatTarget(b.address, b.port),
              region: b.region,
              weight: b.weight,
              effective_weight: v.status === 'healthy' ? b.weight : 0,
              status: v.status,
              reason: v.reason,
              source: v.source,
              agent_id: b.agentId ?? null,
              last_change: iso(v.lastChange),
            };
          }),
        }),
    },
    {
      method: 'GET',
      path: '/api/v1/agents',
      handler: () => ok({ agents: view.agents().map(agentJson) }),
    },
    { method: 'GET', path: '/api/v1/cluster/status', handler: () => ok(clusterStatus()) },
    {
      method: 'GET',
      path: '/api/v1/cluster/members',
      handler: () => ok({ members: [{ id: view.nodeName, address: '', state: 'Leader', is_voter: true }] }),
    },
    {
      method: 'GET',
      path: '/api/v1/cluster/leader',
      handler: () => ok({ leader_id: view.nodeName, leader_address: '' }),
    },
    // 200 on the leader or a standalone node, 503 elsewhere: HAProxy `option httpchk` semantics (Oba seed).
    {
      method: 'GET',
      path: '/api/v1/cluster/health',
      handler: () => ok({ healthy: true, is_leader: true, mode: 'standalone' }),
    },
    { method: 'GET', path: '/api/v1/overrides', handler: notYet('overrides', 'the decisions issue (#4)') },
    { method: 'GET', path: '/api/v1/events', handler: notYet('the event trail', 'the decisions issue (#4)') },
  ];
}

function agentJson(a: AgentRecord) {
  const signal = (name: 'cpu' | 'memory' | 'error_rate') => {
    const r = a.report?.signals.find((s) => s.signal === name);
    return r === undefined
      ? null
      : { value: r.value, threshold: r.threshold, state: r.state, trend: r.trendPerMinute, reason: r.reason };
  };
  return {
    id: a.id,
    hostname: a.hostname,
    region: a.region,
    version: a.version,
    node_id: a.nodeId,
    connected: a.connected,
    state: a.state,
    last_seen: a.lastSeenWall.toISOString(),
    backends: a.backends.map((b) => ({
      service: b.service,
      address: b.address,
      port: b.port,
      weight: b.weight,
      healthy: a.claims.get(`${b.service}|${b.address}:${b.port}`)?.healthy ?? null,
    })),
    signals: { cpu: signal('cpu'), memory: signal('memory'), error_rate: signal('error_rate') },
  };
}
