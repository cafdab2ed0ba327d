/**
 * Which DNS queries a cluster node answers (DESIGN.md section 6), decided per query at the moment it is handled,
 * on the monotonic clock. A leader answers only while it holds its lease (internal/raft/lease.ts), so a deposed
 * or paused leader stops before its own timers notice: after SIGCONT the queries that queued in the socket
 * meet an expired lease. With `serve_on: any` a follower also answers while it heard from a leader within
 * `max_stale` (Consul-style stale reads); a leader without its lease never does.
 */

/** What the gate reads from the Raft node; both are cheap field reads (RaftNode). */
export interface LeaseSource {
  hasLease(now: number): boolean;
  /** Monotonic ms of the last message from the current leader; undefined on a leader or before any. */
  lastContact(): number | undefined;
}

/** The `dns` keys the gate follows; read per query so a reload applies at once. */
export interface DnsGateConfig {
  serveOn: 'leader' | 'any';
  maxStaleMs: number;
}

/** Whether this node may answer a query handled at monotonic time `now` (performance.now()). */
export function mayAnswer(raft: LeaseSource, cfg: DnsGateConfig, now: number): boolean {
  if (raft.hasLease(now)) return true;
  if (cfg.serveOn !== 'any') return false;
  const contact = raft.lastContact();
  return contact !== undefined && now - contact <= cfg.maxStaleMs;
}
