/**
 * Outcomes of the core's request methods a caller acts on. Broken invariants throw InvariantError
 * (../errors.ts) instead; stale protocol input is logged and ignored, never thrown.
 */
import type { NodeId } from './config.js';

/**
 * Why a request was refused:
 * - not-leader: only the leader accepts it; retry at `leaderHint` ('' = unknown, retry later).
 * - transferring: a leadership transfer is in progress; retry after it ends.
 * - removed: this leader is no longer a voter and will step down.
 * - too-large: the payload exceeds the largest entry storage accepts.
 * - conf-change-pending: an earlier membership change is not committed yet (one at a time, thesis §4.1).
 * - not-committed-in-term: the leader has not yet committed an entry of its term (thesis §4.1 fix; §6.4).
 * - invalid-conf-change: the change does not apply to the current configuration (see message).
 * - invalid-transfer: the transferee is not a voter of the configuration.
 */
export type DropReason =
  | 'not-leader'
  | 'transferring'
  | 'removed'
  | 'too-large'
  | 'conf-change-pending'
  | 'not-committed-in-term'
  | 'invalid-conf-change'
  | 'invalid-transfer';

/**
 * A proposal, membership change, read or transfer request was not accepted; nothing was appended or sent.
 * Branch on `reason`; `leaderHint` names the known leader, if any.
 */
export class ProposalDroppedError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'PROPOSAL_DROPPED';
  constructor(
    readonly reason: DropReason,
    readonly leaderHint: NodeId | '',
    detail: string,
  ) {
    super(
      `raft: request dropped (${reason}): ${detail}; leader ${leaderHint === '' ? 'unknown' : leaderHint}`,
    );
    this.name = 'ProposalDroppedError';
  }
}

/**
 * createSnapshot was asked for an index the core can no longer snapshot: a snapshot from the leader is waiting
 * to be installed (it supersedes the local log and state machine, so the local state is about to be replaced),
 * or storage already holds a snapshot at or after the index. Nothing changed; skip this snapshot (as etcd's
 * ErrSnapOutOfDate) and try again after the next Ready.
 */
export class SnapshotOutOfDateError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'SNAPSHOT_OUT_OF_DATE';
  constructor(
    readonly index: number,
    detail: string,
  ) {
    super(`raft: snapshot at ${index} is out of date: ${detail}`);
    this.name = 'SnapshotOutOfDateError';
  }
}
