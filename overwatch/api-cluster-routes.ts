/**
 * REST endpoints of the cluster (seed deployment guide, step 4; Oba seed for /health): status, members, leader
 * and the HAProxy-style health check. snake_case as the seed guide; a standalone node answers as a cluster of one.
 */
import type { ApiRequest, ApiResponse, Route } from '../internal/api/index.js';
import type { ClusterView } from './cluster-view.js';

type Handler = (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;

const ok = (body: unknown): ApiResponse => ({ status: 200, body });

/** `GET /api/v1/cluster/status`: the seed's fields plus term, commit_index and last_applied. */
export function clusterStatusJson(cluster: ClusterView) {
  const c = cluster.status();
  return {
    mode: c.mode,
    node_id: c.nodeId,
    is_leader: c.isLeader,
    leader_id: c.leaderId,
    leader_address: c.leaderAddress,
    cluster_size: c.clusterSize,
    state: c.state,
    term: c.term,
    commit_index: c.commitIndex,
    last_applied: c.lastApplied,
  };
}

/**
 * The /api/v1/cluster routes. `consistent` wraps the reads of replicated state (the `?consistent=true`
 * ReadIndex barrier); /health is never wrapped: a load balancer's probe must answer at once.
 */
export function clusterRoutes(cluster: ClusterView, consistent: (h: Handler) => Handler): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/cluster/status',
      handler: consistent(() => ok(clusterStatusJson(cluster))),
    },
    {
      method: 'GET',
      path: '/api/v1/cluster/members',
      handler: consistent(() =>
        ok({
          // The seed's four fields first; then each member's advertised service addresses.
          members: cluster.members().map((m) => ({
            id: m.id,
            address: m.address,
            state: m.state,
            is_voter: m.isVoter,
            grpc_address: m.grpc,
            api_address: m.api,
            dns_address: m.dns,
            gossip_address: m.gossip,
          })),
        }),
      ),
    },
    {
      method: 'GET',
      path: '/api/v1/cluster/leader',
      handler: consistent(() => {
        const c = cluster.status();
        return ok({ leader_id: c.leaderId, leader_address: c.leaderAddress });
      }),
    },
    // 200 on the leader or a standalone node, 503 elsewhere: HAProxy `option httpchk` semantics (Oba seed).
    {
      method: 'GET',
      path: '/api/v1/cluster/health',
      handler: () => {
        const c = cluster.status();
        const body = { healthy: c.isLeader, is_leader: c.isLeader, mode: c.mode };
        return c.isLeader ? ok(body) : { status: 503, body };
      },
    },
  ];
}
