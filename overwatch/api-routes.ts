/**
 * REST handlers of an overwatch node (DESIGN.md section 7; snake_case JSON, RFC 3339 times, lists in a
 * named field). The /api/v1/cluster routes are in api-cluster-routes.ts.
 */
import { ApiHttpError, type ApiRequest, type ApiResponse, type Route } from '../internal/api/index.js';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { tokensEqual } from '../internal/grpc/auth.js';
import type { TargetStatus } from '../internal/health/index.js';
import type { AgentRecord } from './agent-registry.js';
import { clusterRoutes } from './api-cluster-routes.js';
import { backendKey, formatTarget } from './backends.js';
import { NotLeaderError } from './cluster-log.js';
import type { ClusterView } from './cluster-view.js';
import { parseConsistent, type ReadBarrier, ReadUnavailableError } from './consistent-read.js';
import type { EventRecord, FsmState } from './fsm.js';
import {
  clearOverrideCommand,
  OverrideInputError,
  overrideJson,
  parseTarget,
  setOverrideCommand,
} from './overrides.js';
import type { ServingState } from './serving-state.js';

/** What the handlers read; every call returns current data, so reloads show up at once. */
export interface ApiView {
  fsm(): FsmState;
  /** Resolves once the commands are committed and applied. */
  propose(cmds: Command[]): Promise<EventRecord[]>;
  version: string;
  nodeName: string;
  config(): OverwatchConfig;
  state: ServingState;
  agents(): AgentRecord[];
  ready(): boolean;
  servers(): TargetStatus[];
  serverStatus(healthKey: string): TargetStatus | undefined;
  startedAt: Date;
  /** Membership and leadership (standalone: a one-member cluster). */
  cluster: ClusterView;
  /** ReadIndex barrier of `?consistent=true` reads (./consistent-read.ts). */
  readBarrier: ReadBarrier;
}

const ok = (body: unknown): ApiResponse => ({ status: 200, body });

function iso(d: Date | undefined): string | null {
  return d === undefined ? null : d.toISOString();
}

/** Write calls need `Authorization: Bearer <api.admin_token>` when a token is configured. */
function requireAdmin(view: ApiView, req: ApiRequest): void {
  const want = view.config().api.adminToken;
  if (want === '') return;
  const got = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1]?.trim();
  if (got === undefined || !tokensEqual(got, want)) {
    throw new ApiHttpError(
      401,
      'unauthorized',
      'write calls need "Authorization: Bearer <api.admin_token>"',
      {
        headers: { 'www-authenticate': 'Bearer' },
      },
    );
  }
}

function userOf(req: ApiRequest, body: Record<string, unknown>): string {
  const header = req.headers['x-user'];
  const fromHeader = Array.isArray(header) ? header[0] : header;
  return String(fromHeader ?? (typeof body['user'] === 'string' ? body['user'] : '') ?? '').slice(0, 100);
}

function inputError(e: unknown): never {
  if (e instanceof OverrideInputError) {
    throw new ApiHttpError(e.status, e.status === 404 ? 'not_found' : 'invalid_field', e.message);
  }
  throw e;
}

/** Proposes through this node (a follower forwards to the leader); with no leader, 503 and `Retry-After: 1`. */
async function proposeHere(view: ApiView, cmds: Command[]): Promise<EventRecord[]> {
  try {
    return await view.propose(cmds);
  } catch (e: unknown) {
    if (e instanceof NotLeaderError)
      throw new ApiHttpError(503, 'no_leader', e.message, { cause: e, headers: { 'retry-after': '1' } });
    throw e;
  }
}

type Handler = (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;

/**
 * A GET of replicated state: with `?consistent=true` it first passes the ReadIndex barrier, so it sees every
 * write acknowledged before it (on any node); no leader -> 503 with `Retry-After: 1`.
 */
function readsReplicated(view: ApiView, handler: Handler): Handler {
  return async (req) => {
    const text = req.query.get('consistent');
    const consistent = parseConsistent(text);
    if (consistent === undefined)
      throw new ApiHttpError(
        400,
        'invalid_field',
        `consistent: must be true or false (got ${JSON.stringify(text)})`,
      );
    if (consistent) {
      try {
        await view.readBarrier();
      } catch (e: unknown) {
        if (e instanceof ReadUnavailableError)
          throw new ApiHttpError(503, 'no_leader', e.message, { cause: e, headers: { 'retry-after': '1' } });
        throw e;
      }
    }
    return handler(req);
  };
}

async function putOverride(view: ApiView, req: ApiRequest): Promise<ApiResponse> {
  requireAdmin(view, req);
  const body = (req.body ?? {}) as Record<string, unknown>;
  for (const [field, want] of [
    ['action', 'string'],
    ['reason', 'string'],
    ['ttl', 'string'],
    ['user', 'string'],
  ] as const) {
    if (body[field] !== undefined && typeof body[field] !== want) {
      throw new ApiHttpError(
        400,
        'invalid_field',
        `${field}: must be a ${want} (got ${JSON.stringify(body[field])})`,
      );
    }
  }
  const unknown = Object.keys(body).filter((k) => !['action', 'reason', 'ttl', 'user'].includes(k));
  if (unknown.length > 0)
    throw new ApiHttpError(
      400,
      'invalid_field',
      `${unknown[0]}: unknown field (allowed: action, reason, ttl, user)`,
    );
  if (body['action'] === undefined)
    throw new ApiHttpError(
      400,
      'invalid_field',
      'action: is required (force_healthy, force_unhealthy or drain)',
    );
  let cmd: Command;
  try {
    const { address, port } = parseTarget(req.params['target'] ?? '');
    cmd = setOverrideCommand(
      {
        service: req.params['service'] ?? '',
        address,
        port,
        action: String(body['action']),
        reason: String(body['reason'] ?? ''),
        ttl: String(body['ttl'] ?? ''),
        user: userOf(req, body),
      },
      view.state.backends(),
      Date.now(),
    );
  } catch (e: unknown) {
    inputError(e);
  }
  await proposeHere(view, [cmd]);
  const b = cmd.command.case === 'setOverride' ? cmd.command.value.override?.backend : undefined;
  const rec = b === undefined ? undefined : view.fsm().overrides.get(backendKey(b));
  return ok({ override: rec === undefined ? null : overrideJson(rec) });
}

async function deleteOverride(view: ApiView, req: ApiRequest): Promise<ApiResponse> {
  requireAdmin(view, req);
  let cmd: Command;
  try {
    const { address, port } = parseTarget(req.params['target'] ?? '');
    cmd = clearOverrideCommand(
      { service: req.params['service'] ?? '', address, port, user: userOf(req, {}) },
      view.fsm(),
      Date.now(),
    );
  } catch (e: unknown) {
    inputError(e);
  }
  await proposeHere(view, [cmd]);
  return ok({ cleared: true });
}

function listEvents(view: ApiView, req: ApiRequest): ApiResponse {
  const sinceText = req.query.get('since') ?? '';
  const limitText = req.query.get('limit') ?? '100';
  const since = sinceText === '' ? 0 : Number(sinceText);
  const limit = Number(limitText);
  if (!Number.isInteger(since) || since < 0)
    throw new ApiHttpError(
      400,
      'invalid_field',
      `since: must be an event id (got ${JSON.stringify(sinceText)})`,
    );
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new ApiHttpError(
      400,
      'invalid_field',
      `limit: must be an integer 1..1000 (got ${JSON.stringify(limitText)})`,
    );
  const events = view
    .fsm()
    .events.filter((e) => e.id > since)
    .slice(0, limit);
  const last = events[events.length - 1]?.id ?? since;
  return ok({ events: events.map(eventJson), next: String(last) });
}

export function eventJson(e: EventRecord) {
  return {
    id: String(e.id),
    time: new Date(e.timeMs).toISOString(),
    service: e.service,
    backend: e.backend,
    from: e.from,
    to: e.to,
    reason: e.reason,
    source: e.source,
    details: e.details,
  };
}

/** The standalone node's routes. */
export function overwatchRoutes(view: ApiView): Route[] {
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
      handler: readsReplicated(view, () =>
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
      ),
    },
    {
      method: 'GET',
      path: '/api/v1/backends',
      handler: readsReplicated(view, () =>
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
              effective_weight: Math.round(b.weight * v.weightFraction * 1000) / 1000,
              status: v.status,
              reason: v.reason,
              source: v.source,
              agent_id: b.agentId ?? null,
              last_change: iso(v.lastChange),
            };
          }),
        }),
      ),
    },
    {
      method: 'GET',
      path: '/api/v1/agents',
      handler: () => ok({ agents: view.agents().map(agentJson) }),
    },
    ...clusterRoutes(view.cluster, (h) => readsReplicated(view, h)),
    {
      method: 'GET',
      path: '/api/v1/overrides',
      handler: readsReplicated(view, () =>
        ok({ overrides: [...view.fsm().overrides.values()].map(overrideJson) }),
      ),
    },
    { method: 'PUT', path: '/api/v1/overrides/:service/:target', handler: (req) => putOverride(view, req) },
    {
      method: 'DELETE',
      path: '/api/v1/overrides/:service/:target',
      handler: (req) => deleteOverride(view, req),
    },
    { method: 'GET', path: '/api/v1/events', handler: readsReplicated(view, (req) => listEvents(view, req)) },
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
      healthy: a.claims.get(backendKey(b))?.healthy ?? null,
    })),
    signals: { cpu: signal('cpu'), memory: signal('memory'), error_rate: signal('error_rate') },
  };
}
