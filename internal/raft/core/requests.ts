/**
 * The caller's requests to the core: proposals, membership changes, leadership transfer and reads. Refusals
 * throw ProposalDroppedError (nothing was appended or sent); caller bugs throw InvariantError.
 */
import { InvariantError } from '../errors.js';
import { MAX_ENTRY_BYTES } from '../storage-state.js';
import { applyConfChange, type ConfChange, encodeConfChange, isVoter } from './conf-change.js';
import type { NodeId } from './config.js';
import { ProposalDroppedError } from './errors.js';
import {
  abortTransfer,
  committedInTerm,
  leaderReadIndex,
  proposalBlocker,
  sendTimeoutNow,
} from './leader.js';
import { currentConf } from './membership.js';
import { type LeaderRole, type RaftState, send } from './raft.js';
import { appendEntry, bcastAppend, maybeSendAppend } from './replication.js';

function requireLeader(r: RaftState, what: string): LeaderRole {
  if (r.role.kind !== 'leader') {
    throw new ProposalDroppedError(
      'not-leader',
      r.lead,
      `${what} on ${r.role.kind} ${r.id} at term ${r.term}`,
    );
  }
  return r.role;
}

function requireAccepting(r: RaftState, L: LeaderRole): void {
  const blocked = proposalBlocker(r, L);
  if (blocked !== undefined) throw new ProposalDroppedError(blocked.reason, r.id, blocked.detail);
}

/**
 * Largest proposal, in bytes. An AppendEntries call carries at least one whole entry and the gRPC transport
 * refuses messages over 4 MiB, so an entry near storage's MAX_ENTRY_BYTES could be stored but never
 * replicated; 1 MiB leaves room for the batch's other entries and framing. Decisions are a few KiB.
 */
export const MAX_PROPOSAL_BYTES = Math.min(1024 * 1024, MAX_ENTRY_BYTES);

function checkSize(r: RaftState, data: Uint8Array): void {
  if (data.byteLength > MAX_PROPOSAL_BYTES) {
    throw new ProposalDroppedError(
      'too-large',
      r.id,
      `entry of ${data.byteLength} bytes exceeds the limit of ${MAX_PROPOSAL_BYTES}`,
    );
  }
}

/** Appends a normal entry and replicates it (leader only). */
export function propose(r: RaftState, data: Uint8Array): void {
  const L = requireLeader(r, 'propose');
  requireAccepting(r, L);
  checkSize(r, data);
  appendEntry(r, L, [{ kind: 'normal', data }]);
  bcastAppend(r, L);
}

/**
 * Appends a membership change; it takes effect on every member as soon as appended (thesis §4.1). Refused
 * until the leader committed an entry of its term (so no change of an earlier leader is still in flight; the
 * fix to single-server changes, Ongaro 2015) and while the previous change is uncommitted.
 */
export function proposeConfChange(r: RaftState, cc: ConfChange): void {
  const L = requireLeader(r, 'conf change');
  requireAccepting(r, L);
  if (!committedInTerm(r)) {
    throw new ProposalDroppedError(
      'not-committed-in-term',
      r.id,
      `leader has not committed an entry of term ${r.term} yet (commit ${r.log.committed()})`,
    );
  }
  if (L.pendingConfIndex > r.log.committed()) {
    throw new ProposalDroppedError(
      'conf-change-pending',
      r.id,
      `change at index ${L.pendingConfIndex} is not committed (commit ${r.log.committed()})`,
    );
  }
  const res = applyConfChange(currentConf(r), cc);
  if (!res.ok)
    throw new ProposalDroppedError('invalid-conf-change', r.id, `${cc.type} ${cc.node}: ${res.error}`);
  const data = encodeConfChange(cc);
  checkSize(r, data);
  L.pendingConfIndex = appendEntry(r, L, [{ kind: 'conf', data }]);
  bcastAppend(r, L);
}

/**
 * Starts handing leadership to voter `to`: proposals are refused meanwhile; once `to` has the whole log it is
 * sent timeout-now and campaigns at once. Aborted after electionTicks. A no-op when `to` is this node or a
 * transfer to `to` is already in progress.
 */
export function transferLeadership(r: RaftState, to: NodeId): void {
  const L = requireLeader(r, 'transfer');
  if (to === r.id) {
    r.logger.debug({ to }, 'ignored transfer to self');
    return;
  }
  if (!isVoter(currentConf(r), to)) {
    throw new ProposalDroppedError('invalid-transfer', r.id, `transferee ${to} is not a voter`);
  }
  if (L.transferee === to) {
    r.logger.info({ to }, 'leadership transfer already in progress');
    return;
  }
  if (L.transferee !== '') abortTransfer(r, L, 'superseded');
  r.logger.info({ to, term: r.term }, 'transferring leadership');
  // The transfer must finish within an election timeout from now.
  r.electionElapsed = 0;
  L.transferee = to;
  const pr = L.progress.get(to);
  if (pr !== undefined && pr.match === r.log.lastIndex()) sendTimeoutNow(r, to);
  else maybeSendAppend(r, L, to, true);
}

/**
 * Asks for a linearizable read point (thesis §6.4). The answer arrives as a ReadState with the same context in
 * a later Ready; a follower forwards the request to its leader. No answer comes if leadership is lost
 * meanwhile: the caller times out and retries. `context` must be non-empty and unique among pending reads.
 */
export function readIndex(r: RaftState, context: Uint8Array): void {
  if (context.byteLength === 0) throw new InvariantError('readIndex: context must be non-empty');
  if (r.role.kind === 'leader') {
    leaderReadIndex(r, r.role, r.id, context);
    return;
  }
  if (r.lead === '') {
    throw new ProposalDroppedError(
      'not-leader',
      '',
      `read on ${r.role.kind} ${r.id}: no leader known at term ${r.term}`,
    );
  }
  send(r, { type: 'read-index', to: r.lead, term: 0, context });
}
