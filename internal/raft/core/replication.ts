/**
 * The leader's sending side of log replication (§5.3): appending its own entries, sending appends within each
 * follower's flow control (progress.ts), falling back to a snapshot when the follower needs compacted
 * entries, heartbeats, and keeping progress in step with the configuration.
 */
import { InvariantError } from '../errors.js';
import type { Entry } from '../storage.js';
import { isVoter } from './conf-change.js';
import type { NodeId } from './config.js';
import { abortTransfer, maybeCommit } from './leader.js';
import { currentConf, currentConfIndex, onAppended } from './membership.js';
import {
  becomeSnapshot,
  createProgress,
  isPaused,
  maybeUpdate,
  type Progress,
  sentEntries,
} from './progress.js';
import { type LeaderRole, type RaftState, send } from './raft.js';

/** Whether the follower was heard from within the last election timeout. */
export function recentlyActive(r: RaftState, L: LeaderRole, pr: Progress): boolean {
  return L.ticks - pr.lastActive < r.cfg.electionTicks;
}

/**
 * Appends entries of the current term to the leader's log (payloads as given), applies any configuration
 * they carry (thesis §4.1: effective on append), counts the leader's own match and commits if a quorum
 * already has them. The caller broadcasts. Returns the new last index.
 */
export function appendEntry(r: RaftState, L: LeaderRole, ents: Pick<Entry, 'kind' | 'data'>[]): number {
  const li = r.log.lastIndex();
  const full: Entry[] = ents.map((e, i) => ({ index: li + 1 + i, term: r.term, kind: e.kind, data: e.data }));
  const last = r.log.append(full);
  if (onAppended(r, full)) syncProgress(r, L);
  // The leader's own entries count towards commit right away: they are persisted before any message that
  // could lead a follower to acknowledge them is sent (Ready order), so a quorum of match is durable.
  const self = L.progress.get(r.id);
  if (self !== undefined) maybeUpdate(self, last);
  maybeCommit(r, L);
  return last;
}

/**
 * Adds progress for new members, marks removed ones as leaving (replicated to until their removal commits),
 * and aborts a transfer to a node that is no longer a voter.
 */
export function syncProgress(r: RaftState, L: LeaderRole): void {
  const conf = currentConf(r);
  const members = [...conf.voters, ...conf.learners];
  for (const id of members) {
    L.leaving.delete(id);
    if (!L.progress.has(id)) {
      // A new member counts as recently active so check-quorum gives it an election timeout to answer.
      L.progress.set(id, createProgress(r.log.lastIndex() + 1, r.cfg.maxInflight, L.ticks));
    }
  }
  for (const id of L.progress.keys()) {
    if (!members.includes(id) && !L.leaving.has(id)) L.leaving.set(id, currentConfIndex(r));
  }
  if (L.transferee !== '' && !isVoter(conf, L.transferee)) abortTransfer(r, L, 'transferee removed');
}

/**
 * Stops replicating to removed nodes once their removal is committed and they have it (or stopped answering:
 * a node that is down would be waited for forever).
 */
export function dropLeft(r: RaftState, L: LeaderRole): void {
  for (const [id, index] of L.leaving) {
    const pr = L.progress.get(id);
    if (index > r.log.committed()) continue;
    if (pr !== undefined && pr.match < index && recentlyActive(r, L, pr)) continue;
    L.leaving.delete(id);
    if (id !== r.id) L.progress.delete(id);
  }
}

function sendSnapshot(r: RaftState, L: LeaderRole, to: NodeId, pr: Progress): boolean {
  if (!recentlyActive(r, L, pr)) {
    r.logger.debug({ to }, 'skipped snapshot: follower not recently active');
    return false;
  }
  const snap = r.log.snapshot();
  if (snap === undefined) {
    throw new InvariantError(
      `replication: ${to} needs index ${pr.next} below firstIndex ${r.log.firstIndex()} but there is no snapshot`,
    );
  }
  becomeSnapshot(pr, snap.meta.index);
  r.logger.info({ to, index: snap.meta.index, term: snap.meta.term }, 'sending snapshot');
  send(r, { type: 'snapshot', to, snapshot: snap });
  return true;
}

/**
 * Sends the follower the entries from its `next` (at most maxSizePerMsg bytes), or the snapshot when they are
 * compacted, unless its flow control is paused. With `sendIfEmpty` an append carrying only the commit index
 * is sent when there is nothing new. Returns whether a message was sent.
 */
export function maybeSendAppend(r: RaftState, L: LeaderRole, to: NodeId, sendIfEmpty: boolean): boolean {
  const pr = L.progress.get(to);
  if (pr === undefined || to === r.id || isPaused(pr)) return false;
  if (pr.next < r.log.firstIndex()) return sendSnapshot(r, L, to, pr);
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  if (prevTerm === undefined) {
    throw new InvariantError(
      `replication: ${to} next ${pr.next} is beyond lastIndex ${r.log.lastIndex()} + 1`,
    );
  }
  const last = r.log.lastIndex();
  const entries = pr.next <= last ? r.log.slice(pr.next, last + 1, r.cfg.maxSizePerMsg) : [];
  if (entries.length === 0 && !sendIfEmpty) return false;
  send(r, { type: 'append', to, index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed() });
  sentEntries(pr, entries.length, prevIndex + entries.length);
  return true;
}

/** Sends appends (or the commit index) to every other member. */
export function bcastAppend(r: RaftState, L: LeaderRole): void {
  for (const id of L.progress.keys()) if (id !== r.id) maybeSendAppend(r, L, id, true);
}

/**
 * Sends a heartbeat to every other member, carrying `context` (the newest pending read) when given. The
 * commit index sent is capped at the follower's match: it may not have the entries beyond it.
 */
export function bcastHeartbeat(r: RaftState, L: LeaderRole, context: Uint8Array | undefined): void {
  for (const [id, pr] of L.progress) {
    if (id === r.id) continue;
    const commit = Math.min(pr.match, r.log.committed());
    send(r, { type: 'heartbeat', to: id, commit, ...(context !== undefined ? { context } : {}) });
  }
}
