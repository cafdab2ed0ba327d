/**
 * Cluster mode's part of the node shell: the replicated decision log behind Raft, the role-change handling
 * (the seed guide's log lines, leadership gauges, the decision loop and agent streams following the leader) and
 * the periodic cluster gauges. Standalone nodes use none of this; overwatch/node.ts picks one or the other.
 */
import type { Logger } from 'pino';
import { advertisedRaftAddress } from '../internal/config/overwatch-checks.js';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { SoftState } from '../internal/raft/core/ready.js';
import { createClusterLog } from './cluster-log.js';
import { type ClusterRuntime, startClusterRuntime } from './cluster-runtime.js';
import type { DecisionLog } from './decision-log.js';
import type { EventRecord, Fsm } from './fsm.js';
import type { OverwatchMetrics } from './metrics.js';

/** What role changes reach beyond the cluster runtime; filled in once the node has built them. */
export interface RoleHooks {
  /** A new leader decides at once, from the state it applied. */
  decide?: () => void;
  /** Agents report to the leader only: streams still open on a node that stops leading move on. */
  rerouteAgents?: () => void;
  /** Leader: makes and applies the decisions a forwarded write causes (the decision loop's settle). */
  settle?: () => Promise<void>;
}

/** Options of {@link startClusterWiring}. */
export interface ClusterWiringOptions {
  config: OverwatchConfig;
  nodeName: string;
  dataDir: string;
  fsm: Fsm;
  metrics: OverwatchMetrics;
  log: Logger;
  onApplied(events: EventRecord[]): void;
  hooks: RoleHooks;
}

/** Opens the Raft-backed decision log and joins or creates the cluster. */
export async function startClusterWiring(
  o: ClusterWiringOptions,
): Promise<{ cluster: ClusterRuntime; dlog: DecisionLog }> {
  const { config, log, metrics } = o;
  const c = config.cluster;
  /** `term/leader` of the last leadership counted: each term's leader once, the same node re-elected too. */
  let leadershipSeen = '';
  let roleSeen = '';
  let runtime: ClusterRuntime | undefined;
  const onSoftState = (s: SoftState, term: number): void => {
    const leading = s.role === 'leader';
    // is_leader as every other surface reports it: a wiped bootstrap node leading its own new cluster is not.
    metrics.clusterIsLeader.set(leading && runtime?.conflict() === undefined ? 1 : 0);
    metrics.clusterState.set(leading ? 2 : s.role === 'follower' ? 0 : 1);
    if (s.leader !== '' && `${term}/${s.leader}` !== leadershipSeen) {
      leadershipSeen = `${term}/${s.leader}`;
      metrics.clusterLeaderChanges.inc();
      log.info({ leader_id: s.leader, term }, 'leader elected');
    }
    // The seed guide's start-up lines (steps 2 and 3), once per role change.
    if (s.role !== roleSeen) {
      roleSeen = s.role;
      if (leading) log.info({ leader_id: s.leader }, 'this node is now the cluster leader');
      else if (s.role === 'follower') {
        log.info({ leader_id: s.leader }, 'this node is now a follower');
        log.info({ serve_on: 'leader' }, 'DNS queries will be refused (not leader)');
      } else log.info({ leader_id: s.leader, role: s.role }, 'cluster role changed');
    }
    if (leading) o.hooks.decide?.();
    else o.hooks.rerouteAgents?.();
  };
  const clog = createClusterLog({
    fsm: o.fsm,
    log: log.child({ component: 'decisions' }),
    onApplied: o.onApplied,
  });
  log.info({ node_name: o.nodeName }, 'initializing cluster mode components');
  const cluster = await startClusterRuntime({
    nodeId: o.nodeName,
    dataDir: o.dataDir,
    bindAddress: c.bindAddress,
    advertise: {
      raft: advertisedRaftAddress(config),
      gossip: c.gossip.bindAddress,
      grpc: config.grpc.address,
      api: config.api.address,
      dns: config.dns.listenAddress,
    },
    bootstrap: c.bootstrap,
    join: c.join,
    heartbeatTimeoutMs: c.raft.heartbeatTimeoutMs,
    electionTimeoutMs: c.raft.electionTimeoutMs,
    tls: c.raft.tls,
    snapshotThreshold: c.raft.snapshotThreshold,
    snapshotIntervalMs: c.raft.snapshotIntervalMs,
    clog,
    log: log.child({ component: 'raft' }),
    onSoftState,
    afterForwardedWrite: async () => {
      await o.hooks.settle?.();
    },
  });
  runtime = cluster;
  log.info(
    { node_id: o.nodeName, bind_address: c.bindAddress, cluster_id: cluster.clusterId },
    'Raft node started',
  );
  return { cluster, dlog: clog };
}

/** The gauges a standalone node exports for the cluster families: a leader of one. */
export function setStandaloneClusterGauges(metrics: OverwatchMetrics): void {
  metrics.clusterIsLeader.set(1);
  metrics.clusterState.set(2);
  metrics.clusterMembers.set(1);
}

/** Refreshes the cluster gauges that change without a role change (the node's 1 s sweep). */
export function refreshClusterGauges(
  metrics: OverwatchMetrics,
  cluster: ClusterRuntime,
  startedMs: number,
): void {
  const st = cluster.status();
  // Also here, not only on role changes: a conflict (wiped bootstrap node) is found after it took the lead.
  metrics.clusterIsLeader.set(st.isLeader ? 1 : 0);
  // The seed's OpenGSLBClusterSizeReduced (members < 3 for 5m) is about members that are up: stopped nodes stay
  // in the configuration (ADR 0007), so the leader reports those it hears from; followers cannot tell.
  metrics.clusterMembers.set(cluster.reachableMembers() ?? st.clusterSize);
  metrics.clusterTerm.set(st.term);
  metrics.clusterCommitIndex.set(st.commitIndex);
  metrics.clusterAppliedIndex.set(st.lastApplied);
  metrics.clusterSnapshotIndex.set(cluster.snapshotIndex());
  // hashicorp/raft's LastContact: 0 on the leader, time since the leader was last heard from elsewhere
  // (since start if never, so a node that never found a leader still trips a staleness alert).
  const contact = cluster.raft.lastContact() ?? startedMs;
  metrics.clusterLastContact.set(st.isLeader ? 0 : (performance.now() - contact) / 1000);
}
