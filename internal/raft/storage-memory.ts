/**
 * In-memory Storage: the real implementation for tests and the simulator, not a mock. With `crashable`, it
 * also models a disk: `crash()` restores exactly what the last completed `sync()` (or snapshot call) made
 * durable, so the simulator can check that nothing a node replied on was lost.
 */
import { InvariantError } from './errors.js';
import type { Entry, HardState, Snapshot, Storage } from './storage.js';
import { emptyHardState } from './storage.js';
import { createStorageState, type StorageState } from './storage-state.js';

/** Options of {@link createMemoryStorage}. */
export interface MemoryStorageOptions {
  /** Keep a copy of the durable state so `crash()` can fall back to it. Default false (no copy cost). */
  crashable?: boolean;
}

/** A memory storage that can lose its unsynced writes on demand. */
export interface CrashableMemoryStorage extends Storage {
  /**
   * Simulates a crash and restart: appends and hard states since the last completed sync() are lost, and the
   * storage is usable again (even if it was closed), holding exactly the durable state. The "disk" is
   * instantaneous: sync() is complete as soon as it is called.
   */
  crash(): void;
}

/** Creates an empty in-memory storage; `{ crashable: true }` adds {@link CrashableMemoryStorage.crash}. */
export function createMemoryStorage(opts: { crashable: true }): CrashableMemoryStorage;
export function createMemoryStorage(opts?: MemoryStorageOptions): Storage;
export function createMemoryStorage(opts: MemoryStorageOptions = {}): Storage | CrashableMemoryStorage {
  const crashable = opts.crashable === true;
  let state: StorageState = createStorageState({
    hardState: emptyHardState(),
    snapshot: undefined,
    prevIndex: 0,
    prevTerm: 0,
    entries: [],
  });
  // The last durable state; cloned on every sync, so only kept when crash() may need it.
  let durable: StorageState | undefined = crashable ? state.clone() : undefined;
  let closed = false;

  function open(op: string): StorageState {
    if (closed) throw new InvariantError(`${op}: storage is closed`);
    return state;
  }
  function persist(): void {
    if (crashable) durable = state.clone();
  }

  const storage: Storage = {
    hardState: (): HardState => open('hardState').hardState(),
    snapshot: (): Snapshot | undefined => open('snapshot').snapshot(),
    firstIndex: () => open('firstIndex').firstIndex(),
    lastIndex: () => open('lastIndex').lastIndex(),
    term: (index: number) => open('term').term(index),
    entries: (lo: number, hi: number, maxBytes?: number): Entry[] =>
      open('entries').entries(lo, hi, maxBytes),
    append(entries: Entry[]): void {
      open('append').append(entries);
    },
    setHardState(hs: HardState): void {
      open('setHardState').setHardState(hs);
    },
    async sync(): Promise<void> {
      open('sync');
      persist();
    },
    async saveSnapshot(s: Snapshot, keep: number): Promise<void> {
      open('saveSnapshot').saveSnapshot(s, keep);
      persist();
    },
    async installSnapshot(s: Snapshot): Promise<void> {
      open('installSnapshot').installSnapshot(s);
      persist();
    },
    async close(): Promise<void> {
      closed = true;
    },
  };
  if (!crashable) return storage;
  return {
    ...storage,
    crash(): void {
      state = (durable as StorageState).clone();
      closed = false;
    },
  };
}
