/**
 * What the REST API and the admin gRPC service show about the cluster: a standalone node is a one-member
 * cluster that always leads; cluster mode reads the Raft node (./cluster-runtime.ts).
 */

/** GET /api/v1/cluster/status and GetClusterStatus. */
export interface ClusterStatusView {
  mode: 'standalone' | 'cluster';
  nodeId: string;
  isLeader: boolean;
  leaderId: string;
  leaderAddress: string;
  clusterSize: number;
  state: 'leader' | 'follower' | 'candidate';
  term: number;
  commitIndex: number;
  lastApplied: number;
}

/** One entry of GET /api/v1/cluster/members and ListMembers. */
export interface ClusterMemberView {
  id: string;
  /** Raft address ('' standalone). */
  address: string;
  state: 'Leader' | 'Follower' | 'Candidate' | 'NonVoter';
  isVoter: boolean;
  /** Gossip address ('' when gossip is not configured). */
  gossip: string;
  grpc: string;
  api: string;
  dns: string;
}

/** Read-only view of the cluster. */
export interface ClusterView {
  status(): ClusterStatusView;
  members(): ClusterMemberView[];
}

/** The standalone node: the only member, always the leader, no Raft address. */
export function standaloneClusterView(
  nodeId: string,
  addresses: () => { grpc: string; api: string; dns: string },
  applied: () => number,
): ClusterView {
  return {
    status: () => ({
      mode: 'standalone',
      nodeId,
      isLeader: true,
      leaderId: nodeId,
      leaderAddress: '',
      clusterSize: 1,
      state: 'leader',
      term: 1,
      commitIndex: applied(),
      lastApplied: applied(),
    }),
    members: () => [{ id: nodeId, address: '', state: 'Leader', isVoter: true, gossip: '', ...addresses() }],
  };
}
