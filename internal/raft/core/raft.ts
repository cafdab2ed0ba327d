/**
 * The protocol state of one node and its transitions (after etcd's raft.go): the role as a tagged union with
 * one step function per role (leader.ts, follower.ts), term handling common to all roles, elections and
 * ticks. Everything is synchronous and deterministic: randomness comes from cfg.rand, time from tick().
 *
 * Invariants: `vote` is set at most once per term; a leader's `lead` is its own id; leader-only state
 * (progress, pending reads, transfer) exists only inside the leader role and dies with it.
 */
import { InvariantError } from '../errors.js';
import { type ConfState, isVoter } from './conf-change.js';
import type { NodeId, RaftLogger, ResolvedConfig } from './config.js';
import { stepCandidate, stepFollower } from './follower.js';
import { stepLeader, tickLeader } from './leader.js';
import { type ConfPoint, currentConf } from './membership.js';
import type { Message, MessageType } from './message.js';
import { becomeReplicate, createProgress, type Progress } from './progress.js';
import { voteResult } from './quorum.js';
import type { RaftLog } from './raft-log.js';
import { createReadOnly, type ReadOnly } from './read-only.js';
import { appendEntry, bcastAppend } from './replication.js';

/** A read request confirmed by the leader: reading the state machine once it applied `index` is linearizable. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

/** Follower: accepts the log of `lead` (RaftState.lead), if known. */
export interface FollowerRole {
  kind: 'follower';
  /** The leader's commit index ran past our log (lost data) and that was logged: once per role, not per heartbeat. */
  lossLogged?: boolean;
}

/** Pre-candidate (thesis §9.6) or candidate: collecting votes; true = granted. */
export interface CampaignRole {
  kind: 'pre-candidate' | 'candidate';
  votes: Map<NodeId, boolean>;
}

/** Leader: replication state of every member and the requests in progress. */
export interface LeaderRole {
  kind: 'leader';
  /**
   * One entry per member of the current configuration (this node too, while it is a member), plus nodes
   * removed by a conf entry that is not committed yet (see `leaving`).
   */
  progress: Map<NodeId, Progress>;
  /**
   * Removed nodes still replicated to, by the index of the entry that removed them: they must receive that
   * entry so they stop campaigning (they apply it on append). Dropped once it commits; never counted in quorums.
   */
  leaving: Map<NodeId, number>;
  /** Index of the latest conf entry appended in this term; another change waits until it is committed. */
  pendingConfIndex: number;
  /** Target of a leadership transfer in progress ('' = none); proposals are refused meanwhile. */
  transferee: NodeId | '';
  readOnly: ReadOnly;
  /** ReadIndex requests that arrived before an entry of this term was committed; answered after. */
  pendingReads: { from: NodeId; context: Uint8Array }[];
  /** Ticks since becoming leader: the clock of Progress.lastActive. */
  ticks: number;
  /**
   * A timeout-now went out this term. Its receiver campaigns with votes that override the followers' lease
   * side, and they may arrive arbitrarily late, so once the transfer ends without it leading, this leader can
   * no longer vouch for its lease: it steps down at its next tick (tickLeader).
   */
  timeoutNowSent: boolean;
  /**
   * A heartbeat round went out since the last tick (a ReadIndex confirmation): the round due at the next
   * tick is skipped, so a leader taking a lease read every tick still sends one round per tick, not two.
   */
  heartbeatSinceTick: boolean;
}

/** The role of a node. */
export type Role = FollowerRole | CampaignRole | LeaderRole;

/** The complete protocol state of a node; mutated only by the functions of the core. */
export interface RaftState {
  readonly cfg: ResolvedConfig;
  readonly id: NodeId;
  readonly logger: RaftLogger;
  readonly log: RaftLog;
  term: number;
  vote: NodeId | '';
  /** The leader of `term` this node knows of ('' = none). */
  lead: NodeId | '';
  role: Role;
  /** Configurations by the index of the conf entry (or snapshot) that set them, ascending; never empty. */
  confs: ConfPoint[];
  /** Ticks since the last reset; on followers, since the leader was last heard from. */
  electionElapsed: number;
  heartbeatElapsed: number;
  /**
   * Ticks left in which a restarted node treats itself as having heard from a leader. It forgot when it last
   * did, and the leader's lease (the shell's, 0.75 x election timeout) counts on every member of its quorum
   * refusing votes for an election timeout after that contact; a crash must not shorten that promise.
   */
  quietTicks: number;
  /**
   * In [electionTicks, 2 * electionTicks) on followers, in [candidateTicks, 2 * candidateTicks) while
   * campaigning; redrawn at every role change.
   */
  randomizedElectionTimeout: number;
  /** Outgoing messages, drained into the next Ready. */
  msgs: Message[];
  /** Confirmed reads, drained into the next Ready. */
  readStates: ReadState[];
}

/** A message as the core builds it: sender, cluster and (by default) term are filled in by {@link send}. */
export type Outgoing = Omit<Message, 'from' | 'clusterId' | 'term'> & { term?: number };

/** Queues a message; term defaults to the current term. */
export function send(r: RaftState, m: Outgoing): void {
  r.msgs.push({ ...m, from: r.id, clusterId: r.cfg.clusterId, term: m.term ?? r.term });
}

/** Whether this node may campaign: a voter, with no leader snapshot waiting to be installed. */
export function promotable(r: RaftState): boolean {
  return isVoter(currentConf(r), r.id) && r.log.unstable.snapshot === undefined;
}

/** A random timeout in [base, 2 * base) ticks, so that nodes rarely time out together (Raft §5.2). */
function drawTimeout(r: RaftState, base: number): number {
  return base + r.cfg.rand.int(base);
}

function reset(r: RaftState, term: number, timeoutTicks: number = r.cfg.electionTicks): void {
  if (r.term !== term) {
    r.term = term;
    r.vote = '';
  }
  r.lead = '';
  r.electionElapsed = 0;
  r.heartbeatElapsed = 0;
  r.randomizedElectionTimeout = drawTimeout(r, timeoutTicks);
}

/** Becomes a follower of `lead` ('' = unknown) at `term`. */
export function becomeFollower(r: RaftState, term: number, lead: NodeId | ''): void {
  reset(r, term);
  r.lead = lead;
  r.role = { kind: 'follower' };
  r.logger.info({ term, lead }, 'became follower');
}

function becomePreCandidate(r: RaftState): void {
  if (r.role.kind === 'leader') throw new InvariantError('invalid transition leader -> pre-candidate');
  // A pre-candidate changes neither term nor vote (thesis §9.6): it only asks.
  r.lead = '';
  // Its round lasts up to a candidate timeout; then it starts over (tickRaft).
  r.randomizedElectionTimeout = drawTimeout(r, r.cfg.candidateTicks);
  r.role = { kind: 'pre-candidate', votes: new Map() };
  r.logger.info({ term: r.term }, 'became pre-candidate');
}

function becomeCandidate(r: RaftState): void {
  if (r.role.kind === 'leader') throw new InvariantError('invalid transition leader -> candidate');
  reset(r, r.term + 1, r.cfg.candidateTicks);
  r.vote = r.id;
  r.role = { kind: 'candidate', votes: new Map() };
  r.logger.info({ term: r.term }, 'became candidate');
}

/** Becomes leader of the current term and appends the empty entry that commits earlier terms' entries (§5.4.2). */
export function becomeLeader(r: RaftState): void {
  if (r.role.kind === 'follower') throw new InvariantError('invalid transition follower -> leader');
  reset(r, r.term);
  r.lead = r.id;
  const conf: ConfState = currentConf(r);
  const last = r.log.lastIndex();
  const progress = new Map<NodeId, Progress>();
  for (const id of [...conf.voters, ...conf.learners]) {
    const pr = createProgress(last + 1, r.cfg.maxInflight, 0);
    if (id === r.id) {
      pr.match = last;
      becomeReplicate(pr);
    }
    progress.set(id, pr);
  }
  const role: LeaderRole = {
    kind: 'leader',
    progress,
    leaving: new Map(),
    pendingConfIndex: 0,
    transferee: '',
    readOnly: createReadOnly(),
    pendingReads: [],
    ticks: 0,
    timeoutNowSent: false,
    heartbeatSinceTick: false,
  };
  r.role = role;
  r.logger.info({ term: r.term }, 'became leader');
  appendEntry(r, role, [{ kind: 'normal', data: new Uint8Array(0) }]);
  bcastAppend(r, role);
}

/** Starts an election (or a pre-vote round first); `transfer` = asked by the leader via timeout-now. */
export function hup(r: RaftState, transfer: boolean): void {
  if (r.role.kind === 'leader') {
    r.logger.debug({ term: r.term }, 'ignored election: already leader');
    return;
  }
  if (!promotable(r)) {
    r.logger.warn({ term: r.term }, 'cannot campaign: not a voter or installing a snapshot');
    return;
  }
  r.logger.info({ term: r.term }, 'starting election');
  campaign(r, r.cfg.preVote && !transfer ? 'pre-vote' : 'vote', transfer);
}

/** Runs a (pre-)vote round; the self-vote alone wins in a single-voter configuration. */
export function campaign(r: RaftState, type: 'pre-vote' | 'vote', transfer: boolean): void {
  let term: number;
  if (type === 'pre-vote') {
    becomePreCandidate(r);
    // Pre-votes ask about the term we would campaign in, without moving to it.
    term = r.term + 1;
  } else {
    becomeCandidate(r);
    term = r.term;
  }
  if (poll(r, r.id, true) === 'won') {
    if (type === 'pre-vote') campaign(r, 'vote', transfer);
    else becomeLeader(r);
    return;
  }
  const index = r.log.lastIndex();
  const logTerm = r.log.lastTerm();
  for (const id of currentConf(r).voters) {
    if (id === r.id) continue;
    r.logger.debug({ to: id, term, type, index, logTerm }, 'sent vote request');
    send(r, { type, to: id, term, index, logTerm, ...(transfer ? { transfer: true } : {}) });
  }
}

/** Records a (pre-)vote from `from` and returns the election outcome so far. */
export function poll(r: RaftState, from: NodeId, granted: boolean): ReturnType<typeof voteResult> {
  if (r.role.kind !== 'pre-candidate' && r.role.kind !== 'candidate') {
    throw new InvariantError(`poll: node is ${r.role.kind}, not campaigning`);
  }
  if (!r.role.votes.has(from)) r.role.votes.set(from, granted);
  return voteResult(currentConf(r).voters, r.role.votes);
}

/** One logical tick: election timer on followers and candidates, heartbeats and check-quorum on leaders. */
export function tickRaft(r: RaftState): void {
  if (r.quietTicks > 0) r.quietTicks--;
  if (r.role.kind === 'leader') {
    tickLeader(r, r.role);
    return;
  }
  r.electionElapsed++;
  if (promotable(r) && r.electionElapsed >= r.randomizedElectionTimeout) {
    r.electionElapsed = 0;
    hup(r, false);
  }
}

const RESP_OF: Partial<Record<MessageType, MessageType>> = { vote: 'vote-resp', 'pre-vote': 'pre-vote-resp' };

function handleVoteRequest(r: RaftState, m: Message): void {
  const respType = RESP_OF[m.type] as MessageType;
  // A vote may be repeated to the same candidate; a fresh one needs no vote and no known leader this term.
  // A pre-vote for a future term is granted on log up-to-dateness alone (it promises nothing).
  const canVote =
    r.vote === m.from || (r.vote === '' && r.lead === '') || (m.type === 'pre-vote' && m.term > r.term);
  const ctx = { from: m.from, type: m.type, term: m.term, index: m.index, logTerm: m.logTerm };
  if (canVote && r.log.isUpToDate(m.index ?? 0, m.logTerm ?? 0)) {
    r.logger.info(ctx, 'granted vote');
    // The response carries the request's term: a granted pre-vote is for the future term.
    send(r, { type: respType, to: m.from, term: m.term });
    if (m.type === 'vote') {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.logger.info(ctx, 'rejected vote');
    send(r, { type: respType, to: m.from, reject: true });
  }
}

/** Whether a leader (possibly this node) was heard from within the election timeout. */
function heardFromLeader(r: RaftState): boolean {
  return (r.lead !== '' && r.electionElapsed < r.cfg.electionTicks) || r.quietTicks > 0;
}

/** Requests (proposals, reads) travel with term 0: they are answered by whoever leads, at any term. */
function isRequest(m: Message): boolean {
  return m.term === 0 && (m.type === 'propose' || m.type === 'read-index');
}

/** Processes one message from the network: term rules common to all roles, then the role's step function. */
export function stepRaft(r: RaftState, m: Message): void {
  if (m.term > r.term) {
    const lease = { from: m.from, type: m.type, term: m.term, lead: r.lead, elapsed: r.electionElapsed };
    if (m.type === 'vote' && m.transfer !== true && r.cfg.checkQuorum && heardFromLeader(r)) {
      // Leader lease on the vote side (thesis §4.2.3): neither move to the term nor vote while a leader is
      // alive, so a server that cannot hear the leader cannot depose it. A transfer overrides the lease.
      r.logger.info(lease, 'ignored vote request within leader lease');
      return;
    }
    if (m.type === 'pre-vote' && heardFromLeader(r)) {
      // Thesis §9.6: a pre-vote is granted only if no leader was heard from within the election timeout.
      r.logger.info(lease, 'rejected pre-vote within leader lease');
      send(r, { type: 'pre-vote-resp', to: m.from, reject: true });
      return;
    }
    if (m.type === 'pre-vote' || (m.type === 'pre-vote-resp' && m.reject !== true)) {
      // Pre-votes never move terms: requests are for a future term, grants echo it.
    } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
      becomeFollower(r, m.term, m.from);
    } else {
      becomeFollower(r, m.term, '');
    }
  } else if (m.term < r.term && !isRequest(m)) {
    if ((r.cfg.checkQuorum || r.cfg.preVote) && (m.type === 'heartbeat' || m.type === 'append')) {
      // A deposed leader may not hear the new term otherwise: with pre-vote or check-quorum nobody sends it
      // a higher-term vote request, so tell it (this response carries our term and makes it step down).
      send(r, { type: 'append-resp', to: m.from, index: 0 });
    } else if (m.type === 'pre-vote') {
      send(r, { type: 'pre-vote-resp', to: m.from, reject: true });
    } else {
      r.logger.debug({ from: m.from, type: m.type, term: m.term }, 'ignored message with lower term');
    }
    return;
  }

  if (m.type === 'vote' || m.type === 'pre-vote') {
    handleVoteRequest(r, m);
    return;
  }
  switch (r.role.kind) {
    case 'leader':
      stepLeader(r, r.role, m);
      return;
    case 'pre-candidate':
    case 'candidate':
      stepCandidate(r, r.role, m);
      return;
    case 'follower':
      stepFollower(r, m);
      return;
  }
}
