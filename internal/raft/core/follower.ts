/**
 * The follower and (pre-)candidate step functions and the receiving side of replication: AppendEntries with
 * its consistency check and reject hint (§5.3), heartbeats, and InstallSnapshot.
 */
import type { Snapshot } from '../storage.js';
import { decodeConfState } from './conf-change.js';
import { onAppended, resetConfs } from './membership.js';
import type { Message } from './message.js';
import {
  becomeFollower,
  becomeLeader,
  type CampaignRole,
  campaign,
  type FollowerRole,
  hup,
  poll,
  type RaftState,
  send,
} from './raft.js';

function handleAppendEntries(r: RaftState, m: Message): void {
  const prevIndex = m.index ?? 0;
  const prevTerm = m.logTerm ?? 0;
  if (prevIndex < r.log.committed()) {
    // Everything up to our commit index matches any leader's log (Leader Completeness); say so.
    send(r, { type: 'append-resp', to: m.from, index: r.log.committed() });
    return;
  }
  const res = r.log.maybeAppend(prevIndex, prevTerm, m.commit ?? 0, m.entries ?? []);
  if (res !== undefined) {
    onAppended(r, res.appended);
    send(r, { type: 'append-resp', to: m.from, index: res.lastNew });
    return;
  }
  // Hint: our last index whose term is <= prevTerm. Everything after it in our log conflicts with the
  // leader's, so the leader can skip to there in one round trip instead of one index at a time.
  const hint = r.log.findConflictByTerm(Math.min(prevIndex, r.log.lastIndex()), prevTerm);
  r.logger.debug({ from: m.from, index: prevIndex, logTerm: prevTerm, hint: hint.index }, 'rejected append');
  send(r, {
    type: 'append-resp',
    to: m.from,
    index: prevIndex,
    reject: true,
    rejectHint: hint.index,
    logTerm: hint.term,
  });
}

function handleHeartbeat(r: RaftState, m: Message): void {
  const commit = m.commit ?? 0;
  if (commit > r.log.lastIndex()) {
    // The leader sends at most what it knows we hold (our match index): this node lost entries it had
    // acknowledged (a wiped or restored data dir). Acting on it would be unsafe and throwing would repeat per
    // heartbeat; say it loudly once and keep the commit index where our log can back it.
    const role = r.role as FollowerRole;
    if (role.lossLogged !== true)
      r.logger.error(
        { from: m.from, commit, lastIndex: r.log.lastIndex() },
        'leader believes this node holds entries its log lacks: data was lost; remove this node and join it again',
      );
    role.lossLogged = true;
  } else r.log.commitTo(commit);
  send(r, { type: 'heartbeat-resp', to: m.from, ...(m.context !== undefined ? { context: m.context } : {}) });
}

/** Installs `s` unless it is not newer than our commit index or our log already contains its last entry. */
function restore(r: RaftState, s: Snapshot): boolean {
  const { index, term } = s.meta;
  if (index <= r.log.committed()) return false;
  if (r.log.matchTerm(index, term)) {
    // Our log already has the snapshot's last entry, so it matches up to there: fast-forward commit.
    r.log.commitTo(index);
    return false;
  }
  const conf = decodeConfState(s.meta.conf);
  if (!conf.ok) {
    r.logger.error({ index, term, reason: conf.error }, 'ignored snapshot with unreadable configuration');
    return false;
  }
  r.log.restore(s);
  resetConfs(r, index, conf.value);
  return true;
}

function handleSnapshot(r: RaftState, m: Message): void {
  const s = m.snapshot;
  if (s === undefined) {
    r.logger.warn({ from: m.from }, 'dropped snapshot message without snapshot');
    return;
  }
  if (restore(r, s)) {
    r.logger.info({ index: s.meta.index, term: s.meta.term }, 'restored snapshot');
    send(r, { type: 'append-resp', to: m.from, index: r.log.lastIndex() });
  } else {
    r.logger.info({ index: s.meta.index, term: s.meta.term, commit: r.log.committed() }, 'ignored snapshot');
    send(r, { type: 'append-resp', to: m.from, index: r.log.committed() });
  }
}

/** The follower's step function. */
export function stepFollower(r: RaftState, m: Message): void {
  switch (m.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      r.electionElapsed = 0;
      r.lead = m.from;
      if (m.type === 'append') handleAppendEntries(r, m);
      else if (m.type === 'heartbeat') handleHeartbeat(r, m);
      else handleSnapshot(r, m);
      return;
    case 'timeout-now':
      r.logger.info({ from: m.from, term: r.term }, 'received timeout-now; campaigning');
      hup(r, true);
      return;
    case 'read-index-resp':
      r.readStates.push({ index: m.index ?? 0, context: m.context ?? new Uint8Array(0) });
      return;
    default:
      r.logger.debug({ from: m.from, type: m.type }, 'ignored message');
  }
}

/** The pre-candidate's and candidate's step function. */
export function stepCandidate(r: RaftState, C: CampaignRole, m: Message): void {
  switch (m.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      // A leader exists in our term (or a later one): stop campaigning and follow it.
      becomeFollower(r, m.term, m.from);
      stepFollower(r, m);
      return;
    case 'vote-resp':
    case 'pre-vote-resp': {
      if (m.type !== (C.kind === 'pre-candidate' ? 'pre-vote-resp' : 'vote-resp')) {
        r.logger.debug({ from: m.from, type: m.type }, 'ignored stale vote response');
        return;
      }
      const res = poll(r, m.from, m.reject !== true);
      const votes = [...C.votes.values()];
      r.logger.info(
        {
          from: m.from,
          type: m.type,
          granted: votes.filter((v) => v).length,
          rejected: votes.filter((v) => !v).length,
        },
        'received vote',
      );
      if (res === 'won') {
        if (C.kind === 'pre-candidate') campaign(r, 'vote', false);
        else becomeLeader(r);
      } else if (res === 'lost') {
        becomeFollower(r, r.term, '');
      }
      return;
    }
    default:
      r.logger.debug({ from: m.from, type: m.type }, 'ignored message');
  }
}
