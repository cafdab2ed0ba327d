/**
 * When the Raft shell takes a local snapshot and compacts its log (cluster.raft.snapshot_threshold and
 * snapshot_interval). Pure: the shell passes the elapsed time it measured on its monotonic clock.
 *
 * A snapshot is due once `thresholdEntries` entries were applied since the last one (bounds the log and the
 * replay after a restart), or once `intervalMs` passed since the last one and at least one entry was applied
 * (bounds how old the state a restart starts from is, on a quiet cluster; an idle cluster takes none).
 * After a snapshot, `trailingEntries` entries before it stay in the log so a follower that is only a little
 * behind catches up with appends instead of a whole InstallSnapshot (hashicorp/raft's TrailingLogs).
 */

/** The resolved policy. */
export interface SnapshotPolicy {
  /** Applied entries since the last snapshot that make one due. >= 1. */
  thresholdEntries: number;
  /** Time since the last snapshot (or the start) after which any new applied entry makes one due, in ms. > 0. */
  intervalMs: number;
  /** Log entries kept before the snapshot index when compacting. >= 0. */
  trailingEntries: number;
}

/** Input of {@link resolveSnapshotPolicy}: trailing entries default to one threshold's worth. */
export interface SnapshotPolicyOptions {
  thresholdEntries: number;
  intervalMs: number;
  /**
   * Default `thresholdEntries`: a follower that missed less than one snapshot's worth of entries catches up
   * from the log; the log then holds at most about twice the threshold. More = fewer snapshot transfers to
   * briefly lagging followers, more memory and disk.
   */
  trailingEntries?: number;
}

/** Applies defaults and checks ranges; throws RangeError naming the field, value and allowed range. */
export function resolveSnapshotPolicy(o: SnapshotPolicyOptions): SnapshotPolicy {
  const p: SnapshotPolicy = {
    thresholdEntries: o.thresholdEntries,
    intervalMs: o.intervalMs,
    trailingEntries: o.trailingEntries ?? o.thresholdEntries,
  };
  const problems: string[] = [];
  if (!Number.isSafeInteger(p.thresholdEntries) || p.thresholdEntries < 1)
    problems.push(`thresholdEntries ${p.thresholdEntries} is not an integer >= 1`);
  if (!Number.isFinite(p.intervalMs) || p.intervalMs <= 0)
    problems.push(`intervalMs ${p.intervalMs} is not > 0`);
  if (!Number.isSafeInteger(p.trailingEntries) || p.trailingEntries < 0)
    problems.push(`trailingEntries ${p.trailingEntries} is not an integer >= 0`);
  if (problems.length > 0) throw new RangeError(`raft snapshot policy: ${problems.join('; ')}`);
  return p;
}

/** Where the node stands: applied index, index of the latest snapshot (0 none), ms since it (or the start). */
export interface SnapshotPosition {
  applied: number;
  snapshotIndex: number;
  sinceSnapshotMs: number;
}

/** Why a snapshot is due, or undefined when it is not. */
export type SnapshotReason = 'threshold' | 'interval';

/** Whether a snapshot at `pos.applied` is due under `policy`. */
export function snapshotDue(policy: SnapshotPolicy, pos: SnapshotPosition): SnapshotReason | undefined {
  const fresh = pos.applied - pos.snapshotIndex;
  if (fresh <= 0) return undefined;
  if (fresh >= policy.thresholdEntries) return 'threshold';
  if (pos.sinceSnapshotMs >= policy.intervalMs) return 'interval';
  return undefined;
}
