/**
 * Linearizable reads (Raft thesis §6.4, ReadIndex): before a `?consistent=true` REST GET or a consistent
 * GetClusterStatus reads the local state machine, the node obtains a read index that the current leader confirmed
 * with a quorum (a follower's request goes to the leader inside Raft) and waits until it applied that index
 * itself. The read then reflects every write acknowledged before it started, on whichever node it lands.
 * A standalone node is trivially linearizable: its barrier does nothing.
 */
import type { RaftNode } from '../internal/raft/node.js';

/** No leader could confirm a read point in time (none known, election, partition): retry later. */
export class ReadUnavailableError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'READ_UNAVAILABLE';
  constructor(detail: string, options?: { cause?: unknown }) {
    super(`cluster: no linearizable read possible now (${detail}); retry`, options);
    this.name = 'ReadUnavailableError';
  }
}

/** Resolves once this node's state machine reflects every write committed before the call. */
export type ReadBarrier = () => Promise<void>;

/** The standalone node's barrier: its log has one writer and reads see every applied write. */
export const localReadBarrier: ReadBarrier = async () => {};

/**
 * The cluster's barrier. `raft.readIndex()` bounds the wait for the read point itself; the local apply after a
 * confirmed read point is bounded here by `timeoutMs` too, so a lagging follower answers 503, never hangs.
 */
export function clusterReadBarrier(raft: Pick<RaftNode, 'readIndex'>, timeoutMs: number): ReadBarrier {
  return async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ReadUnavailableError(`read index not applied here within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      await Promise.race([raft.readIndex(), deadline]);
    } catch (e: unknown) {
      if (e instanceof ReadUnavailableError) throw e;
      throw new ReadUnavailableError(e instanceof Error ? e.message : String(e), { cause: e });
    } finally {
      clearTimeout(timer);
    }
  };
}

/**
 * The `consistent` query parameter: absent or `false`/`0` -> false; `true`/`1` or bare `?consistent` -> true.
 * Anything else is undefined (the caller answers 400): a typo must not silently give a stale read.
 */
export function parseConsistent(value: string | null): boolean | undefined {
  if (value === null) return false;
  const v = value.toLowerCase();
  if (v === 'true' || v === '1' || v === '') return true;
  if (v === 'false' || v === '0') return false;
  return undefined;
}
