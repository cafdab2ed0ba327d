/**
 * Errors of the Raft package. Outcomes a caller acts on (compacted, unavailable, corrupt data directory,
 * locked data directory) are typed with a stable `code`; `InvariantError` marks a caller bug and is never
 * caught by the core.
 */

/** The requested index lies below the log's first retained entry (it was compacted into a snapshot). */
export class CompactedError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'RAFT_COMPACTED';
  constructor(
    readonly index: number,
    readonly firstIndex: number,
  ) {
    super(`raft storage: index ${index} is compacted (first retained index ${firstIndex})`);
    this.name = 'CompactedError';
  }
}

/** The requested index lies beyond the last entry of the log. */
export class UnavailableError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'RAFT_UNAVAILABLE';
  constructor(
    readonly index: number,
    readonly lastIndex: number,
  ) {
    super(`raft storage: index ${index} is unavailable (last index ${lastIndex})`);
    this.name = 'UnavailableError';
  }
}

/**
 * A file in the data directory is damaged in a way that cannot be repaired without losing data that may have
 * been acknowledged; the node must not start. `offset` is the byte offset of the damaged record or field.
 */
export class CorruptionError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'RAFT_CORRUPTION';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`raft storage: ${file} is corrupt at byte offset ${offset}: ${reason}; refusing to start`);
    this.name = 'CorruptionError';
  }
}

/** Another live process (possibly this one) holds the data directory's LOCK file. */
export class LockedError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'RAFT_LOCKED';
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(
      `raft storage: ${lockFile} is held by running process ${pid}${pid === process.pid ? ' (this process)' : ''}; ` +
        'two processes must never share a data directory',
    );
    this.name = 'LockedError';
  }
}

/**
 * A caller broke a contract (non-contiguous append, term going backwards, use after close). The message names
 * the operation and the numbers that broke it, e.g. `append: entry 7 does not follow 5`.
 */
export class InvariantError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'RAFT_INVARIANT';
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}
