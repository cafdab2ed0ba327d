/**
 * Membership operations of a cluster member: joining nodes (added as learners by the leader), explicit
 * removal (`opengslbctl members remove`, RaftService.Leave is its forwarded form) and leadership transfer
 * (admin TransferLeadership, and the hand-off before a leader exits). Any member accepts a join or a removal
 * and forwards it to the leader over the cached leader channel (./cluster-peers.ts).
 *
 * Removing the leader itself: it first hands leadership to the most up-to-date other voter, then forwards
 * the removal to the new leader, so no leader ever runs a configuration it is not part of. A removed node
 * stops participating: the core never lets a non-voter campaign and the leader stops replicating to it once
 * the removal commits; its process keeps running (DNS REFUSED as a non-leader) until the operator stops it.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { JoinRequest } from '../internal/gen/opengslb/v1/raft_pb.js';
import { GrpcError } from '../internal/grpc/grpc-error.js';
import { type ConfChange, isMember } from '../internal/raft/core/conf-change.js';
import { ProposalDroppedError } from '../internal/raft/core/errors.js';
import type { SoftState, Status } from '../internal/raft/core/ready.js';
import type { RaftNode } from '../internal/raft/node.js';
import { encodeMemberAddresses } from '../internal/raft/raft-wire.js';
import type { LeaderClients } from './cluster-peers.js';

/** What the membership operations need of the runtime. */
export interface MembershipDeps {
  nodeId: string;
  clusterId: string;
  /** The Raft node, undefined until it started. */
  node(): RaftNode | undefined;
  leaderClients: LeaderClients;
  /** A member's Raft address, if known. */
  raftAddressOf(id: string): string | undefined;
  /** Election timeout T in ms (cluster.raft.heartbeat_timeout, the shell's meaning). */
  heartbeatTimeoutMs: number;
  /** Resolves true once `pred` holds for the node's soft state (checked now, then on every change), false after `ms`. */
  waitSoftState(pred: (s: SoftState) => boolean, ms: number): Promise<boolean>;
  log: Logger;
}

/** The membership operations; failures are GrpcErrors with a status a caller can act on. */
export interface Membership {
  /** Leader: adds a joining node as a learner (no-op when it is a member). Elsewhere: forwarded. */
  join(req: JoinRequest): Promise<{ leaderId: string; clusterId: string }>;
  /** Removes member `id` from the configuration, forwarding to the leader; resolves once applied there. */
  remove(id: string): Promise<void>;
  /**
   * Hands leadership to voter `target` ('' = the most up-to-date other voter) and waits at most two election
   * timeouts until another node leads; resolves with the new leader's id. A follower forwards to the leader
   * (RaftService.TransferLeader); `forwarded` marks that call, which is not forwarded again (UNAVAILABLE).
   */
  transfer(target: string, forwarded?: boolean): Promise<string>;
}

/** Deadline of one forwarded call and of retrying a conf change refused while another is pending. */
const CALL_TIMEOUT_MS = 5_000;
const RETRY_MS = 50;

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The other voter with the highest match index (the leader's view), or undefined. */
export function bestVoter(st: Status, self: string): string | undefined {
  let best: string | undefined;
  let bestMatch = -1;
  for (const v of st.conf.voters) {
    if (v === self) continue;
    const m = st.progress?.[v]?.match ?? 0;
    if (m > bestMatch) {
      best = v;
      bestMatch = m;
    }
  }
  return best;
}

/** Creates the operations over `d`. */
export function createMembership(d: MembershipDeps): Membership {
  const { nodeId, clusterId, log } = d;

  const requireNode = (): RaftNode => {
    const node = d.node();
    if (node === undefined)
      throw new GrpcError(grpcStatus.UNAVAILABLE, 'cluster: Raft node not started yet; retry');
    return node;
  };
  /** The leader's Raft address, or UNAVAILABLE (no leader known, or no address for it). */
  const leaderRaftAddress = (st: Status): string => {
    const a = st.leader === '' ? undefined : d.raftAddressOf(st.leader);
    if (a === undefined) throw new GrpcError(grpcStatus.UNAVAILABLE, 'cluster: no leader known yet; retry');
    return a;
  };
  /** Proposes `cc`, retrying while an earlier change is pending or the leader has not committed in its term. */
  const proposeConf = async (node: RaftNode, cc: ConfChange): Promise<void> => {
    const deadline = performance.now() + CALL_TIMEOUT_MS;
    for (;;) {
      try {
        await node.proposeConfChange(cc);
        return;
      } catch (e: unknown) {
        const retryable =
          e instanceof ProposalDroppedError &&
          (e.reason === 'conf-change-pending' ||
            e.reason === 'not-committed-in-term' ||
            e.reason === 'transferring');
        if (!retryable || performance.now() > deadline) throw toGrpc(e);
        await pause(RETRY_MS);
      }
    }
  };

  const transfer = async (target: string, forwarded = false): Promise<string> => {
    const node = requireNode();
    const st = node.status();
    if (st.role !== 'leader') {
      // A forwarded request that finds leadership moved on is not passed around again: the caller retries.
      if (st.leader === '' || forwarded)
        throw new GrpcError(grpcStatus.UNAVAILABLE, `${nodeId} is not the leader and cannot forward; retry`);
      // An operator may ask any member: the leader runs the transfer and answers once another node leads.
      const client = d.leaderClients.get(leaderRaftAddress(st));
      const r = await client.transferLeader(
        { clusterId, target },
        { timeoutMs: 2 * d.heartbeatTimeoutMs + CALL_TIMEOUT_MS },
      );
      return r.leaderId;
    }
    if (target === nodeId) return nodeId;
    const to = target === '' ? bestVoter(st, nodeId) : target;
    if (to === undefined)
      throw new GrpcError(
        grpcStatus.FAILED_PRECONDITION,
        `${nodeId} is the only voter; nobody to transfer to`,
      );
    if (!st.conf.voters.includes(to))
      throw new GrpcError(
        st.conf.learners.includes(to) ? grpcStatus.FAILED_PRECONDITION : grpcStatus.NOT_FOUND,
        st.conf.learners.includes(to)
          ? `node ${to} is a non-voter (still catching up) and cannot lead`
          : `node ${to} is not a member (voters: ${st.conf.voters.join(', ')})`,
      );
    // The core aborts a transfer after one election timeout; two cover the new leader's first heartbeat.
    const waitMs = 2 * d.heartbeatTimeoutMs;
    const moved = d.waitSoftState(
      (s) => s.role !== 'leader' && s.leader !== '' && s.leader !== nodeId,
      waitMs,
    );
    try {
      node.transferLeadership(to);
    } catch (e: unknown) {
      throw toGrpc(e);
    }
    log.info({ peer: to, match: st.progress?.[to]?.match }, 'transferring leadership');
    if (!(await moved))
      throw new GrpcError(
        grpcStatus.DEADLINE_EXCEEDED,
        `leadership transfer to ${to} did not finish within ${waitMs} ms (is it up to date and reachable?)`,
      );
    const leader = node.status().leader;
    log.info({ leader }, 'leadership transferred');
    return leader;
  };

  const remove = async (id: string, hops = 0): Promise<void> => {
    const node = requireNode();
    const st = node.status();
    if (st.role !== 'leader') {
      if (hops > 2) throw new GrpcError(grpcStatus.UNAVAILABLE, 'cluster: leadership keeps moving; retry');
      const client = d.leaderClients.get(leaderRaftAddress(st));
      await client.leave({ nodeId: id, clusterId }, { timeoutMs: CALL_TIMEOUT_MS });
      return;
    }
    if (!isMember(st.conf, id))
      throw new GrpcError(
        grpcStatus.NOT_FOUND,
        `node ${JSON.stringify(id)} is not a member (members: ${[...st.conf.voters, ...st.conf.learners].sort().join(', ')})`,
      );
    if (st.conf.voters.length === 1 && st.conf.voters[0] === id)
      throw new GrpcError(
        grpcStatus.FAILED_PRECONDITION,
        `node ${id} is the last voter; removing it would leave the cluster without a quorum`,
      );
    if (id === nodeId) {
      log.info({ peer: id }, 'removing the leader itself: transferring leadership first');
      await transfer('');
      return remove(id, hops + 1);
    }
    await proposeConf(node, { type: 'remove', node: id });
    log.info({ peer: id }, 'removed member from the configuration');
  };

  const join = async (req: JoinRequest): Promise<{ leaderId: string; clusterId: string }> => {
    const node = requireNode();
    const st = node.status();
    if (st.role !== 'leader') {
      const client = d.leaderClients.get(leaderRaftAddress(st));
      return client.join({ ...req, clusterId }, { timeoutMs: CALL_TIMEOUT_MS });
    }
    if (isMember(st.conf, req.nodeId)) {
      // A member joins again only when it lost its data dir (with one it rejoins by itself). Taking it back as
      // it is would be unsafe: a voter that forgot its term and vote can vote twice in a term, and the leader's
      // record of what it holds (its match index) would be wrong. A learner that never received an entry (its
      // first join's answer was lost) is the one harmless case.
      const fresh = st.conf.learners.includes(req.nodeId) && (st.progress?.[req.nodeId]?.match ?? 0) === 0;
      if (!fresh)
        throw new GrpcError(
          grpcStatus.FAILED_PRECONDITION,
          `node ${JSON.stringify(req.nodeId)} is already a member of this cluster; a member that lost its data dir must be removed first (opengslbctl members remove ${req.nodeId}), then started again with --join`,
        );
    } else {
      const a = req.addresses;
      const context = encodeMemberAddresses({
        raft: a?.raft ?? '',
        gossip: a?.gossip ?? '',
        grpc: a?.grpc ?? '',
        api: a?.api ?? '',
        dns: a?.dns ?? '',
      });
      await proposeConf(node, { type: 'add-learner', node: req.nodeId, context });
      log.info({ peer: req.nodeId, raft: a?.raft }, 'added joining node as a learner');
    }
    return { leaderId: nodeId, clusterId };
  };

  return { join, remove: (id) => remove(id), transfer: (target, forwarded) => transfer(target, forwarded) };
}

/** Core refusals as gRPC statuses: retryable ones UNAVAILABLE, invalid ones FAILED_PRECONDITION. */
function toGrpc(e: unknown): unknown {
  if (!(e instanceof ProposalDroppedError)) return e;
  const invalid = e.reason === 'invalid-conf-change' || e.reason === 'invalid-transfer';
  return new GrpcError(invalid ? grpcStatus.FAILED_PRECONDITION : grpcStatus.UNAVAILABLE, e.message, {
    cause: e,
  });
}
