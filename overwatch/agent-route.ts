/**
 * Where an agent's stream belongs in cluster mode: agents report to the leader only (its registry feeds the
 * decision loop), so a follower answers an agent's Connect with a `Reconnect` directive naming the leader's gRPC
 * address, and with no leader known it refuses with UNAVAILABLE so the agent backs off and retries.
 */
import type { ClusterMemberView, ClusterView } from './cluster-view.js';
import { dialable } from './dialable.js';

/** What the agent service does with a (new or open) agent stream. */
export type AgentRoute =
  | { kind: 'serve' }
  | { kind: 'redirect'; leaderId: string; address: string }
  | { kind: 'unavailable'; reason: string };

/**
 * The leader's gRPC address as an agent can dial it: a wildcard listener (":9443", "0.0.0.0:9443") takes the
 * host of the member's Raft address, which peers already reach. Undefined when the member book has none.
 */
export function dialableGrpc(m: ClusterMemberView): string | undefined {
  return dialable(m.grpc, m.address);
}

/** The route for agent streams on this node, from its current view of the cluster. */
export function agentRoute(cluster: ClusterView): AgentRoute {
  const st = cluster.status();
  if (st.isLeader) return { kind: 'serve' };
  if (st.leaderId === '') return { kind: 'unavailable', reason: 'no cluster leader known yet; retry later' };
  const leader = cluster.members().find((m) => m.id === st.leaderId);
  const address = leader === undefined ? undefined : dialableGrpc(leader);
  if (address === undefined)
    return { kind: 'unavailable', reason: `leader ${st.leaderId} has no known gRPC address; retry later` };
  return { kind: 'redirect', leaderId: st.leaderId, address };
}
