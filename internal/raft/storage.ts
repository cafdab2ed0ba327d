/**
 * The storage port of the Raft layer: what it must be able to make durable before it replies (term, vote,
 * log entries; Raft thesis §3.8) and read back after a restart. Two implementations sit beside it:
 * `storage-memory.ts` (tests and the simulator, optionally crashable) and `storage-file.ts` (production).
 */

/** One log entry. `conf` entries carry membership changes, interpreted by the Raft layer. */
export interface Entry {
  /** Position in the log, from 1. */
  index: number;
  /** Term of the leader that created the entry; non-decreasing along the log. */
  term: number;
  kind: 'normal' | 'conf';
  /** Opaque payload. Storage keeps the reference: do not mutate it after `append`. */
  data: Uint8Array;
}

/** What a node must remember across restarts besides its log. */
export interface HardState {
  /** Latest term seen; never decreases. */
  term: number;
  /** Candidate voted for in `term`; '' = none. Once set it cannot change within the same term. */
  vote: string;
  /** Highest index known committed; never decreases. May lag the truth after a restart (it is recoverable). */
  commit: number;
}

/** Identity of a snapshot: the last log position it covers and the membership at that point. */
export interface SnapshotMeta {
  /** Last index covered by the snapshot. */
  index: number;
  /** Term of the entry at `index`. */
  term: number;
  /** Opaque membership blob for the Raft layer. */
  conf: Uint8Array;
}

/** A state-machine snapshot: `data` reflects every entry up to `meta.index`. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

/**
 * Durable Raft state. Reads reflect every `append`/`setHardState` made so far, synced or not; durability is
 * only promised once `sync()` (or a snapshot call) resolves. Entries returned by reads are the stored objects:
 * callers must not mutate them.
 *
 * Errors: `CompactedError` / `UnavailableError` for reads outside the log, `InvariantError` for caller bugs;
 * a failed write or fsync leaves the storage failed (every later call rethrows it) because a failed fsync
 * cannot be retried safely: the kernel may already have dropped the dirty pages.
 */
export interface Storage {
  /** The latest hard state (at open: what was durable). Zero state = `{ term: 0, vote: '', commit: 0 }`. */
  hardState(): HardState;
  /** The latest snapshot, if any. */
  snapshot(): Snapshot | undefined;
  /** Index of the first entry still in the log (snapshot.index + 1 right after compaction); 1 when never compacted. */
  firstIndex(): number;
  /** Index of the last entry; snapshot.index when the log after it is empty; 0 when empty and no snapshot. */
  lastIndex(): number;
  /**
   * Term of the entry at `index`, for firstIndex - 1 <= index <= lastIndex (term(snapshot.index) works; term(0)
   * is 0 on a log that was never compacted). Throws CompactedError below, UnavailableError above.
   */
  term(index: number): number;
  /**
   * Entries in [lo, hi), stopping once their data exceeds `maxBytes` but always returning at least one entry
   * when lo < hi. Throws CompactedError if lo < firstIndex, UnavailableError if hi > lastIndex + 1.
   */
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  /**
   * Appends contiguous entries, first truncating any existing entries at index >= entries[0].index (the
   * conflicting suffix). Entries below firstIndex are ignored (already compacted, hence committed).
   * Not durable until sync(). Throws InvariantError on a gap, a non-contiguous batch or a term going back.
   */
  append(entries: Entry[]): void;
  /** Replaces the hard state; not durable until sync(). Throws InvariantError if term/commit decrease or a vote changes within a term. */
  setHardState(hs: HardState): void;
  /** Makes every append/setHardState so far durable. Concurrent calls are serialised. */
  sync(): Promise<void>;
  /**
   * Makes everything pending durable (as sync()), then durably stores a snapshot taken locally (data covers
   * everything up to meta.index <= lastIndex, meta.term = term(meta.index)), and drops log entries
   * <= meta.index - keep, keeping `keep` trailing entries for slow followers.
   */
  saveSnapshot(s: Snapshot, keep: number): Promise<void>;
  /**
   * Replaces the log with a snapshot received from a leader (InstallSnapshot): pending appends are dropped,
   * the log is emptied and firstIndex = meta.index + 1; a pending hard state is made durable too.
   */
  installSnapshot(s: Snapshot): Promise<void>;
  /** Releases the storage. Pending (unsynced) writes are dropped, as in a crash. Later calls throw InvariantError. */
  close(): Promise<void>;
}

/** The hard state of a node that never voted nor saw a term. */
export function emptyHardState(): HardState {
  return { term: 0, vote: '', commit: 0 };
}
