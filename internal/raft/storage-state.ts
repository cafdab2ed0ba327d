/**
 * The in-memory model both storages share: hard state, latest snapshot and the retained log, with every
 * contract check of the Storage port. It does no I/O; `storage-memory.ts` adds crash semantics on top and
 * `storage-file.ts` mirrors each change onto disk. Like etcd's MemoryStorage, the whole retained log is held
 * in memory; snapshots bound it.
 *
 * Invariants: entries[i].index = prevIndex + 1 + i; terms never decrease along the log; prevIndex <=
 * snapshot.index when there is a snapshot (term(prevIndex) = prevTerm stands in for the compacted entries).
 */
import { CompactedError, InvariantError, UnavailableError } from './errors.js';
import type { Entry, HardState, Snapshot } from './storage.js';

/** Largest entry payload accepted by append (a record must fit a u32 length, and proposals are small). */
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024;
/** Largest vote (a node id) in UTF-8 bytes. */
export const MAX_VOTE_BYTES = 1024;

/** What a storage starts from: the durable state found at open, or nothing. */
export interface StorageStateInit {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  /** Index and term of the entry just before `entries`: the snapshot's, or 0/0 for a log never compacted. */
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
}

/** The model; methods mirror the Storage port, mutators return what an implementation must persist. */
export interface StorageState {
  hardState(): HardState;
  snapshot(): Snapshot | undefined;
  firstIndex(): number;
  lastIndex(): number;
  term(index: number): number;
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  /** Validates and appends; returns the entries actually appended and the first replaced index, if any. */
  append(entries: Entry[]): { appended: Entry[]; cut: number | undefined };
  setHardState(hs: HardState): void;
  /** Validates a local snapshot, records it and compacts; returns the new firstIndex. */
  saveSnapshot(s: Snapshot, keep: number): number;
  /** Validates a leader's snapshot, records it and empties the log. */
  installSnapshot(s: Snapshot): void;
  /** An independent copy (entries and snapshot are shared: they are never mutated). */
  clone(): StorageState;
}

function checkIndex(what: string, n: number, min: number): void {
  if (!Number.isSafeInteger(n) || n < min)
    throw new InvariantError(`${what} ${n} is not a safe integer >= ${min}`);
}

function checkEntry(e: Entry): void {
  checkIndex('append: entry index', e.index, 1);
  checkIndex(`append: entry ${e.index} term`, e.term, 1);
  if (e.kind !== 'normal' && e.kind !== 'conf') {
    throw new InvariantError(`append: entry ${e.index} kind ${String(e.kind)} is not 'normal' or 'conf'`);
  }
  if (!(e.data instanceof Uint8Array))
    throw new InvariantError(`append: entry ${e.index} data is not a Uint8Array`);
  if (e.data.byteLength > MAX_ENTRY_BYTES) {
    throw new InvariantError(
      `append: entry ${e.index} has ${e.data.byteLength} bytes, limit ${MAX_ENTRY_BYTES}`,
    );
  }
}

function checkSnapshotMeta(op: string, s: Snapshot, current: Snapshot | undefined): void {
  checkIndex(`${op}: snapshot index`, s.meta.index, 1);
  checkIndex(`${op}: snapshot term`, s.meta.term, 1);
  if (current !== undefined && s.meta.index <= current.meta.index) {
    throw new InvariantError(
      `${op}: snapshot index ${s.meta.index} is not above the current ${current.meta.index}`,
    );
  }
}

/** Creates the model from what was durable at open (or `init` = empty state). */
export function createStorageState(init: StorageStateInit): StorageState {
  let hard: HardState = { ...init.hardState };
  let snap = init.snapshot;
  let prevIndex = init.prevIndex;
  let prevTerm = init.prevTerm;
  let log: Entry[] = init.entries.slice();

  const firstIndex = (): number => prevIndex + 1;
  const lastIndex = (): number => prevIndex + log.length;

  function term(index: number): number {
    if (!Number.isSafeInteger(index)) throw new InvariantError(`term: index ${index} is not a safe integer`);
    if (index < prevIndex) throw new CompactedError(index, firstIndex());
    if (index > lastIndex()) throw new UnavailableError(index, lastIndex());
    return index === prevIndex ? prevTerm : (log[index - prevIndex - 1] as Entry).term;
  }

  function entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || lo > hi) {
      throw new InvariantError(`entries: range [${lo}, ${hi}) is not a valid index range`);
    }
    if (lo < firstIndex()) throw new CompactedError(lo, firstIndex());
    if (hi > lastIndex() + 1) throw new UnavailableError(hi - 1, lastIndex());
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = log[i - prevIndex - 1] as Entry;
      bytes += e.data.byteLength;
      // Always at least one entry, so a single entry above maxBytes still makes progress.
      if (maxBytes !== undefined && out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  function append(batch: Entry[]): { appended: Entry[]; cut: number | undefined } {
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i] as Entry;
      checkEntry(e);
      const prev = batch[i - 1];
      if (prev !== undefined && e.index !== prev.index + 1) {
        throw new InvariantError(`append: entry ${e.index} does not follow ${prev.index} in the batch`);
      }
      if (prev !== undefined && e.term < prev.term) {
        throw new InvariantError(
          `append: entry ${e.index} term ${e.term} is below entry ${prev.index} term ${prev.term}`,
        );
      }
    }
    const head = batch[0];
    if (head === undefined) return { appended: [], cut: undefined };
    if (head.index > lastIndex() + 1) {
      throw new InvariantError(`append: entry ${head.index} leaves a gap after lastIndex ${lastIndex()}`);
    }
    // Entries below firstIndex were compacted, hence committed and identical to these; skip them.
    const appended = head.index < firstIndex() ? batch.slice(firstIndex() - head.index) : batch;
    const first = appended[0];
    if (first === undefined) return { appended, cut: undefined };
    const before = term(first.index - 1);
    if (first.term < before) {
      throw new InvariantError(
        `append: entry ${first.index} term ${first.term} is below term ${before} of entry ${first.index - 1}`,
      );
    }
    const cut = first.index <= lastIndex() ? first.index : undefined;
    if (cut !== undefined) log.length = cut - firstIndex();
    for (const e of appended) log.push(e);
    return { appended, cut };
  }

  function setHardState(hs: HardState): void {
    checkIndex('setHardState: term', hs.term, 0);
    checkIndex('setHardState: commit', hs.commit, 0);
    if (typeof hs.vote !== 'string' || Buffer.byteLength(hs.vote, 'utf8') > MAX_VOTE_BYTES) {
      throw new InvariantError(
        `setHardState: vote must be a string of at most ${MAX_VOTE_BYTES} UTF-8 bytes`,
      );
    }
    if (hs.term < hard.term) throw new InvariantError(`setHardState: term ${hs.term} is below ${hard.term}`);
    if (hs.term === hard.term && hard.vote !== '' && hs.vote !== hard.vote) {
      throw new InvariantError(
        `setHardState: vote changed from ${JSON.stringify(hard.vote)} to ${JSON.stringify(hs.vote)} within term ${hs.term}`,
      );
    }
    if (hs.commit < hard.commit)
      throw new InvariantError(`setHardState: commit ${hs.commit} is below ${hard.commit}`);
    hard = { term: hs.term, vote: hs.vote, commit: hs.commit };
  }

  function saveSnapshot(s: Snapshot, keep: number): number {
    checkSnapshotMeta('saveSnapshot', s, snap);
    checkIndex('saveSnapshot: keep', keep, 0);
    const { index } = s.meta;
    if (index > lastIndex())
      throw new InvariantError(`saveSnapshot: index ${index} is beyond lastIndex ${lastIndex()}`);
    const t = term(index);
    if (t !== s.meta.term)
      throw new InvariantError(`saveSnapshot: term ${s.meta.term} at index ${index}, log has ${t}`);
    snap = s;
    const newFirst = Math.max(firstIndex(), index + 1 - keep);
    prevTerm = term(newFirst - 1);
    log = log.slice(newFirst - firstIndex());
    prevIndex = newFirst - 1;
    return newFirst;
  }

  function installSnapshot(s: Snapshot): void {
    checkSnapshotMeta('installSnapshot', s, snap);
    snap = s;
    prevIndex = s.meta.index;
    prevTerm = s.meta.term;
    log = [];
  }

  const self: StorageState = {
    hardState: () => ({ ...hard }),
    snapshot: () => snap,
    firstIndex,
    lastIndex,
    term,
    entries,
    append,
    setHardState,
    saveSnapshot,
    installSnapshot,
    clone: () => createStorageState({ hardState: hard, snapshot: snap, prevIndex, prevTerm, entries: log }),
  };
  return self;
}
