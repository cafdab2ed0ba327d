/**
 * What a leader knows about one follower's log (after etcd's tracker/progress.go), and the state machine that
 * decides how to send to it:
 *
 *   probe      one append at a time, waiting for its answer (or a heartbeat response) before the next; used
 *              while the follower's match point is unknown. Rejections move `next` back (fast backoff).
 *   replicate  optimistic streaming: `next` advances as soon as entries are sent, up to maxInflight messages
 *              unacknowledged. A rejection drops back to probe.
 *   snapshot   the entries the follower needs were compacted; a snapshot is in flight and nothing else is
 *              sent until the follower acknowledges an index >= the snapshot's (or the shell reports failure).
 *
 * Invariant: match < next. Followers' progress lives only in the leader role.
 */
import { InvariantError } from '../errors.js';
import { createInflights, type Inflights } from './inflights.js';

/** The replication state of one follower. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** Per-follower replication state; mutated in place by the leader through the functions below. */
export interface Progress {
  /** Highest index known to match the leader's log. */
  match: number;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState;
  /** In snapshot state: the index of the snapshot in flight. */
  pendingSnapshot: number;
  /** In probe state: an append is out and unanswered, so sending pauses. */
  probeSent: boolean;
  /** In replicate state: unacknowledged append messages. */
  inflights: Inflights;
  /** Leader tick at which the follower was last heard from (check-quorum, snapshot decisions). */
  lastActive: number;
}

/** A progress in probe state, sending from `next`, considered heard from at tick `now`. */
export function createProgress(next: number, maxInflight: number, now: number): Progress {
  return {
    match: 0,
    next,
    state: 'probe',
    pendingSnapshot: 0,
    probeSent: false,
    inflights: createInflights(maxInflight),
    lastActive: now,
  };
}

function resetState(pr: Progress, state: ProgressState): void {
  pr.state = state;
  pr.probeSent = false;
  pr.pendingSnapshot = 0;
  pr.inflights.reset();
}

/** Back to probing from just after `match` (or after the snapshot that was in flight, if that is further). */
export function becomeProbe(pr: Progress): void {
  const pending = pr.state === 'snapshot' ? pr.pendingSnapshot : 0;
  resetState(pr, 'probe');
  pr.next = Math.max(pr.match + 1, pending + 1);
}

/** Start streaming from just after `match`. */
export function becomeReplicate(pr: Progress): void {
  resetState(pr, 'replicate');
  pr.next = pr.match + 1;
}

/** A snapshot at `index` is being sent. */
export function becomeSnapshot(pr: Progress, index: number): void {
  resetState(pr, 'snapshot');
  pr.pendingSnapshot = index;
}

/**
 * The follower acknowledged entries up to `n`. Returns whether `match` moved; `next` never goes below n + 1.
 * Any acknowledgement answers an outstanding probe.
 */
export function maybeUpdate(pr: Progress, n: number): boolean {
  let updated = false;
  if (pr.match < n) {
    pr.match = n;
    pr.probeSent = false;
    updated = true;
  }
  pr.next = Math.max(pr.next, n + 1);
  return updated;
}

/**
 * The follower rejected an append whose previous entry was `rejected`; `matchHint` is the highest index that
 * may still match (from the follower's hint). Returns false for a stale rejection (one answering an append
 * sent before a later decision), which must be ignored.
 */
export function maybeDecrTo(pr: Progress, rejected: number, matchHint: number): boolean {
  if (pr.state === 'replicate') {
    // Everything up to match is known to match; a rejection at or below it is stale.
    if (rejected <= pr.match) return false;
    pr.next = pr.match + 1;
    return true;
  }
  // In probe state only the answer to the last probe (prev = next - 1) is current.
  if (pr.next - 1 !== rejected) return false;
  pr.next = Math.max(Math.min(rejected, matchHint + 1), pr.match + 1);
  pr.probeSent = false;
  return true;
}

/** Records an append carrying `count` entries ending at `lastIndex` that was just sent. */
export function sentEntries(pr: Progress, count: number, lastIndex: number): void {
  switch (pr.state) {
    case 'replicate':
      if (count > 0) {
        pr.next = lastIndex + 1;
        pr.inflights.add(lastIndex);
      }
      return;
    case 'probe':
      pr.probeSent = true;
      return;
    case 'snapshot':
      throw new InvariantError(
        `sentEntries: append sent while a snapshot ${pr.pendingSnapshot} is in flight`,
      );
  }
}

/** Whether the leader must hold back appends to this follower. */
export function isPaused(pr: Progress): boolean {
  switch (pr.state) {
    case 'probe':
      return pr.probeSent;
    case 'replicate':
      return pr.inflights.full();
    case 'snapshot':
      return true;
  }
}

/** `replicate match=5 next=6`, plus pending snapshot / paused / inflight details when relevant. */
export function describeProgress(pr: Progress): string {
  let s = `${pr.state} match=${pr.match} next=${pr.next}`;
  if (pr.state === 'snapshot') s += ` pending=${pr.pendingSnapshot}`;
  if (pr.state === 'replicate' && pr.inflights.count() > 0) s += ` inflight=${pr.inflights.count()}`;
  if (isPaused(pr) && pr.state !== 'snapshot') s += ' paused';
  return s;
}
