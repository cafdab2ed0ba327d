/**
 * Majority-quorum arithmetic over a voter set (after etcd's quorum/majority.go; no joint configurations
 * because membership changes one server at a time, thesis §4.1). Pure functions.
 */
import type { NodeId } from './config.js';

/** Votes needed for a majority of `n` voters. */
export function quorumSize(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * The largest index that a majority of `voters` has acknowledged: sort the acknowledged indexes descending
 * and take the quorum-th. A voter missing from `acked` counts as 0. An empty voter set commits nothing (0):
 * the core never lets a configuration lose its last voter.
 */
export function majorityCommitIndex(
  voters: readonly NodeId[],
  acked: (id: NodeId) => number | undefined,
): number {
  if (voters.length === 0) return 0;
  const idx = voters.map((id) => acked(id) ?? 0).sort((a, b) => b - a);
  return idx[quorumSize(voters.length) - 1] as number;
}

/** Outcome of a vote count. */
export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * Counts `votes` (true = granted) from `voters`; votes from non-voters are ignored. `won` once a majority
 * granted, `lost` once a majority can no longer be reached, else `pending`.
 */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'lost';
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = quorumSize(voters.length);
  if (granted >= q) return 'won';
  if (granted + missing >= q) return 'pending';
  return 'lost';
}

/** Whether at least a majority of `voters` satisfies `active`. */
export function quorumActive(voters: readonly NodeId[], active: (id: NodeId) => boolean): boolean {
  return voters.filter(active).length >= quorumSize(voters.length);
}
