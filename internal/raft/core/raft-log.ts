/**
 * The node's view of its log (after etcd's log.go): the stable part read from Storage plus the unstable tail
 * (log-unstable.ts), and the commit and apply positions.
 *
 * Invariants: applied <= committed <= lastIndex; firstIndex - 1 <= applied (compacted entries were applied);
 * committed entries are never truncated.
 */
import { InvariantError } from '../errors.js';
import type { Entry, Snapshot, Storage } from '../storage.js';
import {
  createUnstable,
  restoreUnstable,
  stableSnapTo,
  stableTo,
  truncateAndAppend,
  type Unstable,
  unstableFirstIndex,
  unstableLastIndex,
  unstableSlice,
  unstableTerm,
} from './log-unstable.js';

/** The combined stable + unstable log. */
export interface RaftLog {
  readonly unstable: Unstable;
  committed(): number;
  applied(): number;
  /** First index whose entry is available (earlier ones are in a snapshot). */
  firstIndex(): number;
  lastIndex(): number;
  lastTerm(): number;
  /** Term of `index`, for firstIndex - 1 <= index <= lastIndex; undefined outside (compacted or absent). */
  term(index: number): number | undefined;
  matchTerm(index: number, term: number): boolean;
  /** Whether a log ending at (`lastIndex`, `term`) is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, term: number): boolean;
  /** Appends `ents` after truncating any suffix from ents[0].index; returns the new lastIndex. */
  append(ents: Entry[]): number;
  /**
   * The follower side of AppendEntries: if (prevIndex, prevTerm) matches, appends what is new in `ents`,
   * truncating a conflicting suffix, and advances commit to min(commit, last new index). Returns undefined on
   * mismatch, else the last index now known to match the leader and the entries actually appended.
   */
  maybeAppend(
    prevIndex: number,
    prevTerm: number,
    commit: number,
    ents: Entry[],
  ): { lastNew: number; appended: Entry[] } | undefined;
  /**
   * The reject hint of fast backoff: the largest index <= `index` whose term is <= `term`, and its term. When
   * our term at some index is unknown (compacted), that index is returned with term 0 (a possible match).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number };
  /** Entries in [lo, hi), at least one and at most `maxBytes` of payload after the first. */
  slice(lo: number, hi: number, maxBytes?: number): Entry[];
  commitTo(commit: number): void;
  /** Commits `index` if it is newer and of `term` (a leader commits only its own term's entries, §5.4.2). */
  maybeCommit(index: number, term: number): boolean;
  appliedTo(index: number): void;
  /** Committed entries not yet applied; none while a snapshot is waiting to be installed. */
  nextCommittedEnts(): Entry[];
  hasNextCommittedEnts(): boolean;
  /** The latest snapshot: a pending one from the leader, else storage's. */
  snapshot(): Snapshot | undefined;
  /** Replaces the log with a snapshot from the leader; it becomes committed. */
  restore(s: Snapshot): void;
  /** The shell persisted entries up to (index, term). */
  stableTo(index: number, term: number): void;
  /** The shell installed the snapshot at `index`. */
  stableSnapTo(index: number): void;
}

function limitSize(ents: Entry[], maxBytes: number | undefined): Entry[] {
  if (maxBytes === undefined || ents.length === 0) return ents;
  let bytes = 0;
  for (let i = 0; i < ents.length; i++) {
    bytes += (ents[i] as Entry).data.byteLength;
    if (i > 0 && bytes > maxBytes) return ents.slice(0, i);
  }
  return ents;
}

/** A log over `storage`, committed at `committed`, applied up to `applied`. */
export function createRaftLog(storage: Storage, committed: number, applied: number): RaftLog {
  const unstable = createUnstable(storage.lastIndex());
  let commit = committed;
  let applyIdx = applied;

  const firstIndex = (): number => unstableFirstIndex(unstable) ?? storage.firstIndex();
  const lastIndex = (): number => unstableLastIndex(unstable) ?? storage.lastIndex();

  function term(index: number): number | undefined {
    const t = unstableTerm(unstable, index);
    if (t !== undefined) return t;
    // A pending snapshot supersedes storage; at or beyond offset only the unstable part counts.
    if (unstable.snapshot !== undefined || index >= unstable.offset) return undefined;
    if (index < storage.firstIndex() - 1 || index > storage.lastIndex()) return undefined;
    return storage.term(index);
  }

  function lastTerm(): number {
    const t = term(lastIndex());
    if (t === undefined) throw new InvariantError(`raft log: term of lastIndex ${lastIndex()} is unknown`);
    return t;
  }

  function commitTo(c: number): void {
    if (c <= commit) return;
    if (c > lastIndex()) throw new InvariantError(`raft log: commit ${c} is beyond lastIndex ${lastIndex()}`);
    commit = c;
  }

  function append(ents: Entry[]): number {
    const first = ents[0];
    if (first === undefined) return lastIndex();
    if (first.index - 1 < commit) {
      throw new InvariantError(`raft log: appending at ${first.index} would truncate committed ${commit}`);
    }
    if (first.index > lastIndex() + 1) {
      throw new InvariantError(`raft log: appending at ${first.index} leaves a gap after ${lastIndex()}`);
    }
    truncateAndAppend(unstable, ents);
    return lastIndex();
  }

  const matchTerm = (index: number, t: number): boolean => term(index) === t;

  function slice(lo: number, hi: number, maxBytes?: number): Entry[] {
    if (lo < firstIndex() || hi > lastIndex() + 1 || lo > hi) {
      throw new InvariantError(
        `raft log: slice [${lo}, ${hi}) is out of bounds [${firstIndex()}, ${lastIndex() + 1})`,
      );
    }
    const mid = Math.min(hi, unstable.offset);
    let ents: Entry[] = [];
    if (lo < mid) {
      ents = storage.entries(lo, mid, maxBytes);
      if (ents.length < mid - lo) return ents;
    }
    if (hi > unstable.offset) ents = ents.concat(unstableSlice(unstable, Math.max(lo, unstable.offset), hi));
    return limitSize(ents, maxBytes);
  }

  const hasNextCommittedEnts = (): boolean => unstable.snapshot === undefined && commit > applyIdx;

  return {
    unstable,
    committed: () => commit,
    applied: () => applyIdx,
    firstIndex,
    lastIndex,
    lastTerm,
    term,
    matchTerm,
    isUpToDate: (li, t) => t > lastTerm() || (t === lastTerm() && li >= lastIndex()),
    append,
    maybeAppend(prevIndex, prevTerm, c, ents) {
      if (!matchTerm(prevIndex, prevTerm)) return undefined;
      const lastNew = prevIndex + ents.length;
      // The first entry that is new or conflicts; everything before it is already in our log (§5.3).
      const conflict = ents.find((e) => !matchTerm(e.index, e.term));
      let appended: Entry[] = [];
      if (conflict !== undefined) {
        if (conflict.index <= commit) {
          throw new InvariantError(
            `raft log: entry ${conflict.index} term ${conflict.term} conflicts with committed ${commit}`,
          );
        }
        appended = ents.slice(conflict.index - prevIndex - 1);
        append(appended);
      }
      commitTo(Math.min(c, lastNew));
      return { lastNew, appended };
    },
    findConflictByTerm(index, t) {
      for (let i = index; i > 0; i--) {
        const ours = term(i);
        if (ours === undefined) return { index: i, term: 0 };
        if (ours <= t) return { index: i, term: ours };
      }
      return { index: 0, term: 0 };
    },
    slice,
    commitTo,
    maybeCommit(index, t) {
      if (index <= commit || term(index) !== t) return false;
      commitTo(index);
      return true;
    },
    appliedTo(index) {
      if (index < applyIdx || index > commit) {
        throw new InvariantError(`raft log: applied ${index} is outside [${applyIdx}, committed ${commit}]`);
      }
      applyIdx = index;
    },
    nextCommittedEnts: () => (hasNextCommittedEnts() ? slice(applyIdx + 1, commit + 1) : []),
    hasNextCommittedEnts,
    snapshot: () => unstable.snapshot ?? storage.snapshot(),
    restore(s) {
      restoreUnstable(unstable, s);
      commit = s.meta.index;
    },
    stableTo(index, t) {
      stableTo(unstable, index, t);
    },
    stableSnapTo(index) {
      stableSnapTo(unstable, index);
    },
  };
}
