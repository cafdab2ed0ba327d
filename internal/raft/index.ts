export { CompactedError, CorruptionError, InvariantError, LockedError, UnavailableError } from './errors.js';
export type { Entry, HardState, Snapshot, SnapshotMeta, Storage } from './storage.js';
export { emptyHardState } from './storage.js';
export type { FileStorage, FileStorageOptions } from './storage-file.js';
export { DEFAULT_SEGMENT_BYTES, openFileStorage } from './storage-file.js';
export type { CrashableMemoryStorage, MemoryStorageOptions } from './storage-memory.js';
export { createMemoryStorage } from './storage-memory.js';
