/**
 * The leader role: its step function (acknowledgements, rejections with fast backoff, heartbeats, forwarded
 * requests), its tick (heartbeats, check-quorum, transfer timeout), commit (§5.4.2: only entries of the
 * current term are committed by counting replicas) and ReadIndex confirmation (thesis §6.4).
 */

import { isVoter } from './conf-change.js';
import type { NodeId } from './config.js';
import { currentConf, currentConfIndex } from './membership.js';
import type { Message } from './message.js';
import {
  becomeProbe,
  becomeReplicate,
  isPaused,
  maybeDecrTo,
  maybeUpdate,
  type Progress,
} from './progress.js';
import { majorityCommitIndex, quorumActive, voteResult } from './quorum.js';
import { becomeFollower, type LeaderRole, type RaftState, send } from './raft.js';
import { addReadRequest, advanceReadOnly, lastPendingContext, recvReadAck } from './read-only.js';
import {
  appendEntry,
  bcastAppend,
  bcastHeartbeat,
  dropLeft,
  maybeSendAppend,
  recentlyActive,
} from './replication.js';

/** Whether the leader has committed an entry of its own term (so it knows the latest commit index). */
export function committedInTerm(r: RaftState): boolean {
  return r.log.term(r.log.committed()) === r.term;
}

/**
 * Advances commit to what a quorum of voters has (only if that entry is of the current term, §5.4.2), then
 * answers reads that waited for the first commit of the term. Returns whether commit moved.
 */
export function maybeCommit(r: RaftState, L: LeaderRole): boolean {
  const index = majorityCommitIndex(currentConf(r).voters, (id) => L.progress.get(id)?.match);
  if (!r.log.maybeCommit(index, r.term)) return false;
  dropLeft(r, L);
  if (L.pendingReads.length > 0) {
    const reads = L.pendingReads;
    L.pendingReads = [];
    for (const rd of reads) leaderReadIndex(r, L, rd.from, rd.context);
  }
  return true;
}

/**
 * A leader that is no longer a voter steps down once its removal is committed (thesis §4.2.2). It hands off
 * to an up-to-date voter with timeout-now, sparing the cluster an election timeout without a leader.
 */
export function maybeStepDownRemoved(r: RaftState): boolean {
  const L = r.role;
  if (L.kind !== 'leader' || isVoter(currentConf(r), r.id)) return false;
  if (r.log.committed() < currentConfIndex(r)) return false;
  r.logger.info({ term: r.term }, 'removed from configuration; stepping down');
  const heir = currentConf(r).voters.find((id) => L.progress.get(id)?.match === r.log.lastIndex());
  if (heir !== undefined) sendTimeoutNow(r, heir);
  becomeFollower(r, r.term, '');
  return true;
}

/** Ends a leadership transfer without it having happened; proposals are accepted again. */
export function abortTransfer(r: RaftState, L: LeaderRole, reason: string): void {
  r.logger.info({ to: L.transferee, reason }, 'leadership transfer aborted');
  L.transferee = '';
}

/** Asks `to` to campaign at once (it has our whole log); its vote requests bypass leases. */
export function sendTimeoutNow(r: RaftState, to: NodeId): void {
  if (r.role.kind === 'leader') r.role.timeoutNowSent = true;
  r.logger.info({ to }, 'sent timeout-now');
  send(r, { type: 'timeout-now', to });
}

function respondRead(r: RaftState, from: NodeId, index: number, context: Uint8Array): void {
  if (from === r.id) r.readStates.push({ index, context });
  else send(r, { type: 'read-index-resp', to: from, index, context });
}

/**
 * A ReadIndex request from `from` (this node or a follower): record the commit index and confirm leadership
 * with a heartbeat round; answered when a quorum acknowledges. Before the leader has committed an entry of
 * its term its commit index may be stale, so the request waits for that first commit.
 */
export function leaderReadIndex(r: RaftState, L: LeaderRole, from: NodeId, context: Uint8Array): void {
  if (!committedInTerm(r)) {
    L.pendingReads.push({ from, context });
    return;
  }
  const voters = currentConf(r).voters;
  if (voters.length === 1 && voters[0] === r.id) {
    respondRead(r, from, r.log.committed(), context);
    return;
  }
  if (!addReadRequest(L.readOnly, r.log.committed(), from, context)) {
    r.logger.debug({ from }, 'ignored duplicate read request');
    return;
  }
  recvReadAck(L.readOnly, r.id, context);
  bcastHeartbeat(r, L, context);
  L.heartbeatSinceTick = true;
}

function handleAppendResp(r: RaftState, L: LeaderRole, m: Message, pr: Progress): void {
  const index = m.index ?? 0;
  if (m.reject === true) {
    r.logger.debug({ from: m.from, index, hint: m.rejectHint, logTerm: m.logTerm }, 'append rejected');
    // The follower's hint is its last index with term <= our prev term; skip every index of ours whose term
    // is above the follower's term there, so one round trip skips a whole term (§5.3 optimisation).
    let probe = m.rejectHint ?? 0;
    if ((m.logTerm ?? 0) > 0) probe = r.log.findConflictByTerm(probe, m.logTerm ?? 0).index;
    if (maybeDecrTo(pr, index, probe)) {
      if (pr.state === 'replicate') becomeProbe(pr);
      maybeSendAppend(r, L, m.from, true);
    }
    return;
  }
  const wasPaused = isPaused(pr);
  if (!maybeUpdate(pr, index) && !(pr.match === index && pr.state === 'probe')) return;
  if (pr.state === 'probe') {
    becomeReplicate(pr);
  } else if (pr.state === 'snapshot' && pr.match + 1 >= r.log.firstIndex()) {
    // The snapshot (or enough of the log) arrived: resume replication just after it.
    becomeProbe(pr);
    becomeReplicate(pr);
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(index);
  }
  if (maybeCommit(r, L)) {
    bcastAppend(r, L);
    if (maybeStepDownRemoved(r)) return;
  } else if (wasPaused) {
    maybeSendAppend(r, L, m.from, true);
  }
  // Flow control may now allow several messages at once (probe -> replicate, or several inflights freed).
  while (maybeSendAppend(r, L, m.from, false)) {
    // each call sends one batch; stop when paused or caught up
  }
  if (m.from === L.transferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
  if (L.leaving.has(m.from)) dropLeft(r, L);
}

function handleHeartbeatResp(r: RaftState, L: LeaderRole, m: Message, pr: Progress): void {
  pr.probeSent = false;
  // Acks may have been lost; free a slot so a full window cannot stall the follower forever.
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
  if (pr.match < r.log.lastIndex()) maybeSendAppend(r, L, m.from, true);
  if (m.context === undefined || m.context.byteLength === 0) return;
  const acks = recvReadAck(L.readOnly, m.from, m.context);
  if (acks === undefined || voteResult(currentConf(r).voters, acks) !== 'won') return;
  for (const rs of advanceReadOnly(L.readOnly, m.context)) respondRead(r, rs.from, rs.index, rs.context);
}

/** Why the leader would refuse a proposal now, or undefined if it accepts. */
export function proposalBlocker(
  r: RaftState,
  L: LeaderRole,
): { reason: 'transferring' | 'removed'; detail: string } | undefined {
  if (L.transferee !== '')
    return { reason: 'transferring', detail: `transferring leadership to ${L.transferee}` };
  if (!isVoter(currentConf(r), r.id))
    return { reason: 'removed', detail: `leader ${r.id} is no longer a voter` };
  return undefined;
}

/** The leader's step function. */
export function stepLeader(r: RaftState, L: LeaderRole, m: Message): void {
  switch (m.type) {
    case 'propose': {
      const blocked = proposalBlocker(r, L);
      const ents = m.entries ?? [];
      if (blocked !== undefined || ents.some((e) => e.kind !== 'normal')) {
        r.logger.debug(
          { from: m.from, reason: blocked?.reason ?? 'not normal entries' },
          'dropped forwarded proposal',
        );
        return;
      }
      appendEntry(
        r,
        L,
        ents.map((e) => ({ kind: 'normal', data: e.data })),
      );
      bcastAppend(r, L);
      return;
    }
    case 'read-index':
      leaderReadIndex(r, L, m.from, m.context ?? new Uint8Array(0));
      return;
    case 'append-resp':
    case 'heartbeat-resp': {
      const pr = L.progress.get(m.from);
      if (pr === undefined) {
        r.logger.debug({ from: m.from, type: m.type }, 'ignored response from non-member');
        return;
      }
      pr.lastActive = L.ticks;
      if (m.type === 'append-resp') handleAppendResp(r, L, m, pr);
      else handleHeartbeatResp(r, L, m, pr);
      return;
    }
    default:
      r.logger.debug({ from: m.from, type: m.type }, 'ignored message');
  }
}

/**
 * The leader's tick: heartbeats every heartbeatTicks; with check-quorum, step down as soon as fewer than a
 * quorum of voters were heard from within the last electionTicks; abort a transfer not done in electionTicks.
 */
export function tickLeader(r: RaftState, L: LeaderRole): void {
  L.ticks++;
  r.heartbeatElapsed++;
  r.electionElapsed++;
  if (r.electionElapsed >= r.cfg.electionTicks) {
    r.electionElapsed = 0;
    if (L.transferee !== '') abortTransfer(r, L, 'timed out');
  }
  if (L.timeoutNowSent && L.transferee === '') {
    // The transfer ended (timed out, or its target was removed) after the target was told to campaign: its
    // lease-overriding votes may still be in flight, so leading on would let a lease outlive the leadership.
    r.logger.warn({ term: r.term }, 'transfer ended after timeout-now; stepping down');
    becomeFollower(r, r.term, '');
    return;
  }
  if (r.cfg.checkQuorum) {
    const active = (id: NodeId): boolean => {
      const pr = L.progress.get(id);
      return id === r.id || (pr !== undefined && recentlyActive(r, L, pr));
    };
    if (!quorumActive(currentConf(r).voters, active)) {
      r.logger.warn({ term: r.term }, 'lost quorum; stepping down');
      becomeFollower(r, r.term, '');
      return;
    }
  }
  if (L.leaving.size > 0) dropLeft(r, L);
  const sent = L.heartbeatSinceTick;
  L.heartbeatSinceTick = false;
  if (r.heartbeatElapsed >= r.cfg.heartbeatTicks) {
    r.heartbeatElapsed = 0;
    // Followers heard from us less than a tick ago, with the latest read context: that round stands for this one.
    if (!sent) bcastHeartbeat(r, L, lastPendingContext(L.readOnly));
  }
}
