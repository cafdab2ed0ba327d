/**
 * opengslb.v1.OverwatchService (admin) for a standalone node. Reads only; writes (overrides) and the event
 * stream arrive with the decisions issue (#4), leadership transfer with the cluster issue (#5): until then
 * they answer UNIMPLEMENTED, never a fake success.
 */
import { status } from '@grpc/grpc-js';
import type { OverwatchService } from '../internal/gen/opengslb/v1/admin_pb.js';
import { bearerToken, tokensEqual } from '../internal/grpc/auth.js';
import { GrpcError } from '../internal/grpc/grpc-error.js';
import type { CallContext, ServiceImpl } from '../internal/grpc/service.js';
import type { AgentRegistry } from './agent-registry.js';
import { backendKey } from './agent-registry.js';
import { explain } from './explain.js';
import { readingToWire, statusToWire, timestampFromDate } from './proto-convert.js';
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
  /** Addresses of this node's listeners, for ListMembers. */
  addresses: () => { grpc: string; api: string; dns: string };
}

function unimplemented(what: string, issue: string): never {
  throw new GrpcError(status.UNIMPLEMENTED, `${what} is not available yet; it arrives with ${issue}`);
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
      return {
        mode: 'standalone',
        nodeId: deps.nodeId,
        isLeader: true,
        leaderId: deps.nodeId,
        leaderAddress: '',
        clusterSize: 1,
        state: 'leader',
        version: deps.version,
      };
    },
    listMembers(_req, ctx) {
      authorize(ctx);
      const a = deps.addresses();
      return {
        members: [
          {
            id: deps.nodeId,
            address: '',
            state: 'Leader',
            isVoter: true,
            grpcAddress: a.grpc,
            apiAddress: a.api,
            dnsAddress: a.dns,
          },
        ],
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
              effectiveWeight: v.status === 'healthy' ? b.weight : 0,
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
    setOverride(_req, ctx) {
      authorize(ctx);
      return unimplemented('SetOverride', 'the decisions issue (#4)');
    },
    clearOverride(_req, ctx) {
      authorize(ctx);
      return unimplemented('ClearOverride', 'the decisions issue (#4)');
    },
    listOverrides(_req, ctx) {
      authorize(ctx);
      return unimplemented('ListOverrides', 'the decisions issue (#4)');
    },
    // biome-ignore lint/correctness/useYield: UNIMPLEMENTED before the first event; a generator is the handler shape.
    async *watchEvents(_req, ctx) {
      authorize(ctx);
      unimplemented('WatchEvents (the event trail)', 'the decisions issue (#4)');
    },
    transferLeadership(_req, ctx) {
      authorize(ctx);
      return unimplemented('TransferLeadership', 'the cluster issue (#5)');
    },
  };
}
