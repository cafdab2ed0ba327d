/**
 * Waiters of the Raft shell: proposals waiting for their entry to be applied, and reads waiting for their
 * read point to be confirmed and applied. A proposal is identified by (index, term): if a different entry is
 * applied at its index, a new leader replaced it and the proposal was lost (Raft §5.3 log matching).
 */
import type { NodeId } from './core/config.js';
import { ProposalDroppedError } from './core/errors.js';
import type { ReadState } from './core/raft.js';

/** Options of {@link createProposalTracker}. */
export interface ProposalTrackerOptions {
  id: NodeId;
  /**
   * Differs on every process start. Read contexts name it: a read the leader still holds from before a
   * restart must not answer (with its older read point) a new read that reuses its sequence number.
   */
  incarnation: string;
  /** How long a read waits for its read point before it is rejected, in ms. */
  readTimeoutMs: number;
  /** The current leader hint for rejections. */
  leader(): NodeId | '';
  /** Index the state machine has applied at start. Default 0. */
  applied?: number;
}

interface Waiter {
  resolve(index: number): void;
  reject(e: unknown): void;
}

interface PendingRead extends Waiter {
  /** Confirmed read point; undefined until the ReadState arrives. */
  index: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** The waiters; see the module comment. Not thread-shared: the shell's loop calls it. */
export interface ProposalTracker {
  /** Waits for the entry proposed at (index, term) to be applied. */
  propose(index: number, term: number): Promise<number>;
  /** The entry (index, term) was applied; `term` undefined = a snapshot up to `index` was restored. */
  applied(index: number, term: number | undefined): void;
  /** Registers a read; pass `context` to RaftCore.readIndex. */
  read(): { context: Uint8Array; done: Promise<number> };
  /** A ReadState arrived. Unknown contexts (another node's, or timed out) are ignored. */
  readState(rs: ReadState): void;
  /** The read with `context` failed to start. */
  cancelRead(context: Uint8Array, e: unknown): void;
  /** Rejects every waiter with `e` (node stopped or failed). */
  fail(e: unknown): void;
}

/** Creates an empty tracker. */
export function createProposalTracker(opts: ProposalTrackerOptions): ProposalTracker {
  const proposals = new Map<number, Waiter & { term: number }>();
  const reads = new Map<string, PendingRead>();
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  let applied = opts.applied ?? 0;
  let seq = 0;

  const lost = (index: number, why: string): ProposalDroppedError =>
    new ProposalDroppedError('not-leader', opts.leader(), `entry ${index} ${why}`);

  const finishRead = (key: string, r: PendingRead): void => {
    clearTimeout(r.timer);
    reads.delete(key);
  };

  return {
    propose(index, term) {
      return new Promise<number>((resolve, reject) => {
        // A stale waiter at this index belongs to an entry a later leader already replaced.
        proposals.get(index)?.reject(lost(index, 'was replaced before it was applied'));
        proposals.set(index, { term, resolve, reject });
      });
    },
    applied(index, term) {
      applied = Math.max(applied, index);
      for (const [i, w] of proposals) {
        if (i > index) continue;
        proposals.delete(i);
        if (i === index && w.term === term) w.resolve(i);
        else if (term === undefined) w.reject(lost(i, 'was covered by a snapshot; outcome unknown'));
        else w.reject(lost(i, 'was replaced by a new leader'));
      }
      for (const [key, r] of reads) {
        if (r.index !== undefined && r.index <= applied) {
          finishRead(key, r);
          r.resolve(r.index);
        }
      }
    },
    read() {
      // Unique across nodes and restarts: a follower's reads are answered by the leader, keyed by context.
      const key = `${opts.id}/${opts.incarnation}/${++seq}`;
      const done = new Promise<number>((resolve, reject) => {
        const r: PendingRead = { resolve, reject, index: undefined, timer: undefined };
        // One deadline for the whole read: a confirmed read point this node never applies (cut off from the
        // leader right after the confirmation) must fail too, not wait forever.
        r.timer = setTimeout(() => {
          reads.delete(key);
          reject(
            new ProposalDroppedError(
              'not-leader',
              opts.leader(),
              r.index === undefined
                ? `no read index confirmed within ${opts.readTimeoutMs} ms`
                : `read index ${r.index} confirmed but not applied here within ${opts.readTimeoutMs} ms`,
            ),
          );
        }, opts.readTimeoutMs);
        reads.set(key, r);
      });
      return { context: encoder.encode(key), done };
    },
    readState(rs) {
      const key = decoder.decode(rs.context);
      const r = reads.get(key);
      if (r === undefined) return;
      if (rs.index <= applied) {
        finishRead(key, r);
        r.resolve(rs.index);
        return;
      }
      // Confirmed: the leader vouched for it, only the local apply is outstanding (still under the deadline).
      r.index = rs.index;
    },
    cancelRead(context, e) {
      const key = decoder.decode(context);
      const r = reads.get(key);
      if (r === undefined) return;
      finishRead(key, r);
      r.reject(e);
    },
    fail(e) {
      for (const w of proposals.values()) w.reject(e);
      proposals.clear();
      for (const [key, r] of reads) {
        finishRead(key, r);
        r.reject(e);
      }
    },
  };
}
