/**
 * Timing of the Raft shell in hashicorp/raft's terms, and the leader lease the DNS path checks per query.
 * Pure: every time is a monotonic-clock argument in ms (performance.now() in the shell).
 *
 * The lease: while leading, the shell issues a ReadIndex every tick whose context names the moment it was
 * issued. The core confirms it once a quorum acknowledged a heartbeat sent after that moment (thesis §6.4).
 * Each acknowledging follower reset its election timer on that heartbeat, and with check-quorum it ignores
 * votes and rejects pre-votes until it has counted a whole heartbeat timeout of ticks since (heardFromLeader
 * in core/raft.ts). Any quorum electing a new leader overlaps that quorum, so no other leader can exist before
 * issue + heartbeat timeout. The lease ends earlier, at issue + 0.75 x heartbeat timeout: a follower's first
 * tick after the reset may come up to one tick (T/10) early, and setInterval drifts; the rest is margin for
 * clock-rate differences between hosts (Raft thesis §6.4.1 bounds the lease by the clock drift).
 * A leadership transfer bypasses the followers' side of this (timeout-now campaigns ignore it), so the lease
 * is dropped when a transfer starts and not renewed while it runs.
 */

/** The shell's timing, derived once from the configured timeouts. */
export interface RaftTiming {
  /** Interval of the tick timer, in ms: heartbeat timeout / electionTicks. */
  tickMs: number;
  /** Follower timeout T in ticks (core electionTicks); 10, or fewer for T < 10 ms so that a tick is >= 1 ms. */
  electionTicks: number;
  /** The leader heartbeats every tick. */
  heartbeatTicks: number;
  /** A (pre-)candidate's round, election timeout / tickMs (core candidateTicks); >= electionTicks. */
  candidateTicks: number;
  /** How long a confirmed lease read keeps the lease, in ms: 0.75 x heartbeat timeout (see module comment). */
  leaseMs: number;
}

/** Ticks per heartbeat timeout: ten heartbeats per follower timeout tolerate several lost ones. */
export const TICKS_PER_TIMEOUT = 10;
/** The smallest heartbeat timeout the shell runs with, in ms (the configuration's minimum). */
export const MIN_HEARTBEAT_TIMEOUT_MS = 5;
/** Lease length as a fraction of the heartbeat timeout; see the module comment for the margin. */
export const LEASE_FRACTION = 0.75;

/**
 * Converts hashicorp/raft-style timeouts (ms) into ticks. Throws RangeError naming the value and the limit
 * when `heartbeatTimeoutMs` < 5 or `electionTimeoutMs` < `heartbeatTimeoutMs` (the config loader checks both
 * first; this guards other callers).
 */
export function raftTiming(heartbeatTimeoutMs: number, electionTimeoutMs = heartbeatTimeoutMs): RaftTiming {
  if (!Number.isFinite(heartbeatTimeoutMs) || heartbeatTimeoutMs < MIN_HEARTBEAT_TIMEOUT_MS)
    throw new RangeError(
      `raft: heartbeatTimeoutMs ${heartbeatTimeoutMs} must be >= ${MIN_HEARTBEAT_TIMEOUT_MS}`,
    );
  if (!Number.isFinite(electionTimeoutMs) || electionTimeoutMs < heartbeatTimeoutMs)
    throw new RangeError(
      `raft: electionTimeoutMs ${electionTimeoutMs} must be >= heartbeatTimeoutMs ${heartbeatTimeoutMs}`,
    );
  // Node's timers have 1 ms resolution: below 10 ms use fewer, 1 ms-or-longer ticks.
  const electionTicks = Math.min(TICKS_PER_TIMEOUT, Math.floor(heartbeatTimeoutMs));
  const tickMs = heartbeatTimeoutMs / electionTicks;
  return {
    tickMs,
    electionTicks,
    heartbeatTicks: 1,
    candidateTicks: Math.max(electionTicks, Math.round(electionTimeoutMs / tickMs)),
    leaseMs: LEASE_FRACTION * heartbeatTimeoutMs,
  };
}

/** The leader lease of one node; see the module comment. */
export interface LeaderLease {
  /** Records a lease read issued at `now`; returns the context to pass to RaftCore.readIndex. */
  issue(now: number): Uint8Array;
  /**
   * A ReadState arrived: if `context` is a lease read, extends the lease to its issue time + leaseMs and
   * returns true (the read is ours; do not hand it to readIndex() callers). Earlier lease reads are confirmed
   * with it (the core answers reads in order), so they are forgotten.
   */
  confirm(context: Uint8Array): boolean;
  /** Whether the lease holds at `now`. */
  holds(now: number): boolean;
  /** Drops the lease and every pending lease read (role change, transfer started). */
  revoke(): void;
}

/** Pending lease reads kept at most; older ones are forgotten (never confirmed in time anyway). */
const MAX_PENDING = 64;
const PREFIX = 'lease/';

/** Creates a lease that holds nothing yet. `id` keeps contexts distinct from the proposal tracker's. */
export function createLeaderLease(id: string, leaseMs: number): LeaderLease {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  // Contexts are `<id>/lease/<seq>`; the proposal tracker's are `<id>/<hex>/<seq>` and never contain "lease/".
  // A restarted leader holds no reads from before (they live in memory), so lease contexts need no incarnation.
  const prefix = `${id}/${PREFIX}`;
  /** Issue time by sequence number, ascending. */
  const pending = new Map<number, number>();
  let seq = 0;
  let until = Number.NEGATIVE_INFINITY;

  return {
    issue(now) {
      seq++;
      pending.set(seq, now);
      if (pending.size > MAX_PENDING) {
        const oldest = pending.keys().next().value;
        if (oldest !== undefined) pending.delete(oldest);
      }
      return encoder.encode(`${prefix}${seq}`);
    },
    confirm(context) {
      const key = decoder.decode(context);
      if (!key.startsWith(prefix)) return false;
      const n = Number(key.slice(prefix.length));
      const issued = pending.get(n);
      if (issued !== undefined) until = Math.max(until, issued + leaseMs);
      for (const k of pending.keys()) {
        if (k > n) break;
        pending.delete(k);
      }
      return true;
    },
    holds: (now) => now < until,
    revoke() {
      until = Number.NEGATIVE_INFINITY;
      pending.clear();
    },
  };
}
