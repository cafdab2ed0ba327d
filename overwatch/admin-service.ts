/**
 * opengslb.v1.OverwatchService (admin): status, members, backends, agents, explain, overrides (answered once
 * committed; forwarded to the leader in cluster mode), the event stream with a resume cursor, and in cluster
 * mode member removal and leadership transfer (a standalone node answers FAILED_PRECONDITION to those).
 */
import { status } from '@grpc/grpc-js';
import type { OverwatchService } from '../internal/gen/opengslb/v1/admin_pb.js';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { bearerToken, tokensEqual } from '../internal/grpc/auth.js';
import { GrpcError } from '../internal/grpc/grpc-error.js';
import type { CallContext, ServiceImpl } from '../internal/grpc/service.js';
import type { AgentRegistry } from './agent-registry.js';
import { backendKey } from './agent-registry.js';
import { NotLeaderError } from './cluster-log.js';
import type { ClusterView } from './cluster-view.js';
import type { EventHub } from './event-hub.js';
import { explain } from './explain.js';
import {
  ACTION_FROM_WIRE,
  ACTION_TO_WIRE,
  type EventRecord,
  type FsmState,
  idKey,
  type OverrideRecord,
} from './fsm.js';
import { clearOverrideCommand, OverrideInputError, setOverrideCommand } from './overrides.js';
import { msFromDuration, readingToWire, statusToWire, timestampFromDate } from './proto-convert.js';
import type { Rand } from './routing.js';
import type { ServingState } from './serving-state.js';

export interface AdminDeps {
  nodeId: string;
  version: string;
  state: ServingState;
  registry: AgentRegistry;
  ready: () => boolean;
  adminToken: () => string;
  rand: Rand;
  fsm: () => FsmState;
  /** Resolves once the commands are committed and applied. */
  propose: (cmds: Command[]) => Promise<EventRecord[]>;
  events: EventHub;
  /** Addresses of this node's listeners, for ListMembers. */
  addresses: () => { grpc: string; api: string; dns: string };
  /** Membership and leadership (standalone: a one-member cluster). */
  cluster: ClusterView;
  /** Cluster mode only: removal and transfer (cluster-membership.ts); they throw GrpcErrors. */
  membership?: ClusterMembershipOps;
}

/** The membership operations the admin service calls (see Membership in cluster-membership.ts). */
export interface ClusterMembershipOps {
  remove(id: string): Promise<void>;
  transfer(target: string): Promise<string>;
}

function overrideCall<T>(f: () => T): T {
  try {
    return f();
  } catch (e: unknown) {
    if (e instanceof OverrideInputError) {
      throw new GrpcError(e.status === 404 ? status.NOT_FOUND : status.INVALID_ARGUMENT, e.message);
    }
    throw e;
  }
}

function overrideToWire(o: OverrideRecord) {
  return {
    backend: { service: o.service, address: o.address, port: o.port },
    action: ACTION_TO_WIRE.get(o.action) ?? 0,
    reason: o.reason,
    user: o.user,
    created: timestampFromDate(new Date(o.createdMs)),
    ...(o.expiresMs === undefined ? {} : { expires: timestampFromDate(new Date(o.expiresMs)) }),
  };
}

const EVENT_STATUS = {
  healthy: 1,
  draining: 2,
  vetoed: 3,
  unhealthy: 4,
  stale: 5,
  unknown: 6,
  '': 0,
} as const;

function eventToWire(e: EventRecord) {
  const target = e.backend === '' ? undefined : parseTargetLoose(e.backend);
  return {
    id: String(e.id),
    time: timestampFromDate(new Date(e.timeMs)),
    backend: { service: e.service, address: target?.address ?? '', port: target?.port ?? 0 },
    from: EVENT_STATUS[e.from],
    to: EVENT_STATUS[e.to],
    reason: e.reason,
    source: e.source,
    details: e.details,
  };
}

function parseTargetLoose(t: string): { address: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(t);
  return m === null ? undefined : { address: m[1] ?? '', port: Number(m[2]) };
}

function clustered(deps: AdminDeps, what: string): ClusterMembershipOps {
  if (deps.membership === undefined)
    throw new GrpcError(
      status.FAILED_PRECONDITION,
      `${what}: this node runs standalone (cluster.mode: cluster)`,
    );
  return deps.membership;
}

/** Proposes through this node (a follower forwards to the leader); with no leader, UNAVAILABLE (retry). */
async function proposeHere(deps: AdminDeps, cmds: Command[]): Promise<EventRecord[]> {
  try {
    return await deps.propose(cmds);
  } catch (e: unknown) {
    if (e instanceof NotLeaderError) throw new GrpcError(status.UNAVAILABLE, e.message);
    throw e;
  }
}

export function createAdminService(deps: AdminDeps): ServiceImpl<typeof OverwatchService> {
  const authorize = (ctx: CallContext): void => {
    const want = deps.adminToken();
    if (want === '') return;
    const got = bearerToken(ctx.metadata);
    if (got === undefined)
      throw new GrpcError(status.UNAUTHENTICATED, 'missing "authorization: Bearer <admin token>" metadata');
    if (!tokensEqual(got, want)) throw new GrpcError(status.UNAUTHENTICATED, 'admin token not accepted');
  };
  return {
    getClusterStatus(_req, ctx) {
      authorize(ctx);
      const c = deps.cluster.status();
      return {
        mode: c.mode,
        nodeId: c.nodeId,
        isLeader: c.isLeader,
        leaderId: c.leaderId,
        leaderAddress: c.leaderAddress,
        clusterSize: c.clusterSize,
        state: c.state,
        term: BigInt(c.term),
        commitIndex: BigInt(c.commitIndex),
        lastApplied: BigInt(c.lastApplied),
        version: deps.version,
      };
    },
    listMembers(_req, ctx) {
      authorize(ctx);
      return {
        members: deps.cluster.members().map((m) => ({
          id: m.id,
          address: m.address,
          state: m.state,
          isVoter: m.isVoter,
          grpcAddress: m.grpc,
          apiAddress: m.api,
          dnsAddress: m.dns,
          gossipAddress: m.gossip,
        })),
      };
    },
    listBackends(req, ctx) {
      authorize(ctx);
      return {
        backends: deps.state
          .backends()
          .filter((b) => req.service === '' || b.service === req.service)
          .map((b) => {
            const v = deps.state.verdict(b);
            return {
              ref: { service: b.service, address: b.address, port: b.port },
              region: b.region,
              weight: b.weight,
              effectiveWeight: b.weight * v.weightFraction,
              status: statusToWire(v.status),
              reason: v.reason,
              source: v.source,
              agentId: b.agentId ?? '',
              ...(v.lastChange === undefined ? {} : { lastChange: timestampFromDate(v.lastChange) }),
            };
          }),
      };
    },
    listAgents(_req, ctx) {
      authorize(ctx);
      return {
        agents: deps.registry.list().map((a) => ({
          id: a.id,
          hostname: a.hostname,
          region: a.region,
          version: a.version,
          connected: a.connected && a.state === 'active',
          lastSeen: timestampFromDate(a.lastSeenWall),
          backends: a.backends.map((b) => ({ service: b.service, address: b.address, port: b.port })),
          signals: (a.report?.signals ?? []).map(readingToWire),
          nodeId: a.nodeId,
        })),
      };
    },
    explain(req, ctx) {
      authorize(ctx);
      if (req.name === '') throw new GrpcError(status.INVALID_ARGUMENT, 'name: is required');
      const qtype = req.qtype === '' ? 'A' : req.qtype.toUpperCase();
      if (qtype !== 'A' && qtype !== 'AAAA') {
        throw new GrpcError(
          status.INVALID_ARGUMENT,
          `qtype: must be A or AAAA (got ${JSON.stringify(req.qtype)})`,
        );
      }
      const e = explain(
        deps.state,
        { name: req.name, qtype, clientAddress: req.clientAddress },
        deps.ready(),
        deps.rand,
      );
      return {
        rcode: e.rcode,
        answers: e.answers,
        ttl: e.ttl,
        routingAlgorithm: e.algorithm,
        summary: e.summary,
        backends: e.backends.map((b) => ({
          ref: { service: b.backend.service, address: b.backend.address, port: b.backend.port },
          status: statusToWire(b.verdict.status),
          weight: b.backend.weight,
          effectiveWeight: b.effectiveWeight,
          eligible: b.eligible,
          reasons: [
            ...b.reasons,
            ...(b.backend.agentId === undefined
              ? []
              : [`fronted by agent ${b.backend.agentId} (${backendKey(b.backend)})`]),
          ],
        })),
      };
    },
    async setOverride(req, ctx) {
      authorize(ctx);
      const b = req.backend;
      if (b === undefined) throw new GrpcError(status.INVALID_ARGUMENT, 'backend: is required');
      const action = ACTION_FROM_WIRE.get(req.action);
      if (action === undefined)
        throw new GrpcError(
          status.INVALID_ARGUMENT,
          'action: must be FORCE_HEALTHY, FORCE_UNHEALTHY or DRAIN',
        );
      const ttlMs = req.ttl === undefined ? 0 : msFromDuration(req.ttl);
      const cmd = overrideCall(() =>
        setOverrideCommand(
          {
            service: b.service,
            address: b.address,
            port: b.port,
            action,
            reason: req.reason,
            ttl: ttlMs > 0 ? `${ttlMs}ms` : '',
            user: req.user,
          },
          deps.state.backends(),
          Date.now(),
        ),
      );
      await proposeHere(deps, [cmd]);
      const o = deps.fsm().overrides.get(idKey(b));
      if (o === undefined)
        throw new GrpcError(status.INTERNAL, 'override was committed but is not in the state');
      return { override: overrideToWire(o) };
    },
    async clearOverride(req, ctx) {
      authorize(ctx);
      const b = req.backend;
      if (b === undefined) throw new GrpcError(status.INVALID_ARGUMENT, 'backend: is required');
      const cmd = overrideCall(() => clearOverrideCommand({ ...b, user: req.user }, deps.fsm(), Date.now()));
      await proposeHere(deps, [cmd]);
      return {};
    },
    listOverrides(_req, ctx) {
      authorize(ctx);
      return { overrides: [...deps.fsm().overrides.values()].map(overrideToWire) };
    },
    async *watchEvents(req, ctx) {
      authorize(ctx);
      const since = req.since === '' ? undefined : Number(req.since);
      if (since !== undefined && (!Number.isInteger(since) || since < 0)) {
        throw new GrpcError(
          status.INVALID_ARGUMENT,
          `since: must be an event id (got ${JSON.stringify(req.since)})`,
        );
      }
      // Without `follow` the call lists the retained events after `since` and ends (grpcurl-friendly).
      for await (const e of deps.events.watch(
        since,
        () => deps.fsm().events,
        ctx.signal,
        req.follow || since === undefined,
      )) {
        yield { event: eventToWire(e) };
      }
    },
    async transferLeadership(req, ctx) {
      authorize(ctx);
      return { newLeaderId: await clustered(deps, 'TransferLeadership').transfer(req.target) };
    },
    async removeMember(req, ctx) {
      authorize(ctx);
      if (req.nodeId === '') throw new GrpcError(status.INVALID_ARGUMENT, 'node_id: is required');
      await clustered(deps, 'RemoveMember').remove(req.nodeId);
      return { leaderId: deps.cluster.status().leaderId };
    },
  };
}
