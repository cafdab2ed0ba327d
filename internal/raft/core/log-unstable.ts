/**
 * The part of the log not yet handed to storage (after etcd's log_unstable.go): a snapshot received from the
 * leader and/or entries appended since the last Ready was persisted. Entries here supersede storage from
 * `offset` on: when a follower truncates a conflicting suffix, `offset` may lie at or below the storage's
 * lastIndex until the shell persists the new entries (Storage.append truncates the same suffix).
 *
 * Invariants: entries[i].index = offset + i; with a snapshot, offset = snapshot.meta.index + 1.
 */
import { InvariantError } from '../errors.js';
import type { Entry, Snapshot } from '../storage.js';

/** Unstable snapshot and entries; mutated in place by the raft log. */
export interface Unstable {
  snapshot: Snapshot | undefined;
  entries: Entry[];
  /** Index of entries[0] (or where the next entry would go when empty). */
  offset: number;
}

/** An empty unstable part starting after storage's last index. */
export function createUnstable(storageLastIndex: number): Unstable {
  return { snapshot: undefined, entries: [], offset: storageLastIndex + 1 };
}

/** Last index held here, if any. */
export function unstableLastIndex(u: Unstable): number | undefined {
  if (u.entries.length > 0) return u.offset + u.entries.length - 1;
  return u.snapshot?.meta.index;
}

/** First index that storage would hold after the snapshot, if a snapshot is pending. */
export function unstableFirstIndex(u: Unstable): number | undefined {
  return u.snapshot === undefined ? undefined : u.snapshot.meta.index + 1;
}

/** Term of `index` if this part knows it (an entry here, or the pending snapshot's index). */
export function unstableTerm(u: Unstable, index: number): number | undefined {
  if (index >= u.offset) {
    const e = u.entries[index - u.offset];
    return e?.term;
  }
  if (u.snapshot !== undefined && u.snapshot.meta.index === index) return u.snapshot.meta.term;
  return undefined;
}

/**
 * Appends `ents` (contiguous), first dropping any entries at or after ents[0].index. Entries before `offset`
 * are the storage's business: if the batch starts at or before `offset`, it replaces this part wholesale.
 */
export function truncateAndAppend(u: Unstable, ents: Entry[]): void {
  const first = ents[0];
  if (first === undefined) return;
  const after = first.index;
  if (after === u.offset + u.entries.length) {
    u.entries.push(...ents);
  } else if (after <= u.offset) {
    u.offset = after;
    u.entries = ents.slice();
  } else {
    u.entries = [...u.entries.slice(0, after - u.offset), ...ents];
  }
}

/** Entries in [lo, hi) from this part; the range must lie within it. */
export function unstableSlice(u: Unstable, lo: number, hi: number): Entry[] {
  const last = u.offset + u.entries.length;
  if (lo > hi || lo < u.offset || hi > last) {
    throw new InvariantError(`unstable slice [${lo}, ${hi}) is out of bounds [${u.offset}, ${last})`);
  }
  return u.entries.slice(lo - u.offset, hi - u.offset);
}

/**
 * Entries up to `index` (of term `term`) were persisted: drop them. Ignored when the entry has since been
 * replaced (a different term at `index`) or is not here, since then what was persisted is already stale.
 */
export function stableTo(u: Unstable, index: number, term: number): boolean {
  if (unstableTerm(u, index) !== term || index < u.offset) return false;
  u.entries = u.entries.slice(index + 1 - u.offset);
  u.offset = index + 1;
  return true;
}

/** The snapshot at `index` was installed in storage: forget it. */
export function stableSnapTo(u: Unstable, index: number): void {
  if (u.snapshot !== undefined && u.snapshot.meta.index === index) u.snapshot = undefined;
}

/** Replaces everything with a snapshot from the leader. */
export function restoreUnstable(u: Unstable, s: Snapshot): void {
  u.snapshot = s;
  u.entries = [];
  u.offset = s.meta.index + 1;
}
