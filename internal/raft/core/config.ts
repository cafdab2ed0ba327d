/**
 * Configuration of the Raft core: what a shell passes to `createRaft`, its defaults and validation. Time is
 * counted in ticks (calls to `tick()`); the shell converts milliseconds to ticks once, at config load.
 */
import { InvariantError } from '../errors.js';
import type { Storage } from '../storage.js';

/** A member's identity; unique within a cluster and never reused after removal. */
export type NodeId = string;

/** Injected randomness (election jitter only): uniform integer in [0, n). Seeded in tests and simulations. */
export interface Rand {
  int(n: number): number;
}

/**
 * The pino-compatible subset the core logs through: object first, constant message. `info` = role changes
 * and elections, `debug` = per message, `warn` = dropped input and lost quorum, `error` = operator must act.
 */
export interface RaftLogger {
  debug(o: object, m: string): void;
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
  error(o: object, m: string): void;
}

/** Options of {@link createRaft}. */
export interface RaftConfig {
  /** This node's id. Must be non-empty. */
  id: NodeId;
  /** Every message carries it; messages from another cluster are dropped (a misrouted peer must not vote). */
  clusterId: string;
  /**
   * Election timeout T in ticks: a follower that hears nothing from a leader for a random timeout in [T, 2T)
   * campaigns. Must exceed heartbeatTicks; etcd recommends 10 x heartbeatTicks so a lost heartbeat or two
   * does not start an election. Larger = slower failover, fewer spurious elections.
   */
  electionTicks: number;
  /** Ticks between leader heartbeats. >= 1 and < electionTicks. */
  heartbeatTicks: number;
  /**
   * How long a pre-candidate's or candidate's election lasts before it starts over, in ticks: a random
   * timeout in [C, 2C) (hashicorp/raft's ElectionTimeout; electionTicks is its HeartbeatTimeout). Must be
   * >= electionTicks. Check-quorum and the vote-side lease keep using electionTicks. Larger = fewer split
   * votes restarting early on a slow network, slower recovery from a split vote. Default electionTicks.
   */
  candidateTicks?: number;
  /** Stable log, hard state and snapshot; the core only reads it (the shell writes what Ready asks). */
  storage: Storage;
  /** Source of election jitter. */
  rand: Rand;
  /** Default: no-op. The shell passes a child logger carrying the node id. */
  logger?: RaftLogger;
  /**
   * Pre-vote (Raft thesis §9.6): a node whose election timer fires first asks whether it could win without
   * bumping its term, so a rejoining partitioned node cannot depose a healthy leader. Default true.
   */
  preVote?: boolean;
  /**
   * Check-quorum: a leader that has not heard from a quorum of voters within electionTicks steps down, and
   * followers that heard from a leader within electionTicks ignore vote requests (leader lease on the vote
   * side; thesis §4.2.3). Default true.
   */
  checkQuorum?: boolean;
  /**
   * Upper bound in payload bytes of the entries in one append message (at least one entry is always sent).
   * Smaller = lower latency per message and less work lost on rejection; larger = higher throughput.
   * Default 1 MiB.
   */
  maxSizePerMsg?: number;
  /** Append messages a leader may have in flight to one follower in replicate state. Default 256. */
  maxInflight?: number;
  /**
   * Last index the state machine applied before this restart; committed entries after it are delivered
   * again. Default: the storage snapshot's index (the state machine restored the snapshot), else 0.
   */
  applied?: number;
}

/** The configuration with defaults applied; what the core works from. */
export type ResolvedConfig = Required<Omit<RaftConfig, 'applied'>> & { applied: number | undefined };

/** Default maxSizePerMsg: 1 MiB. */
export const DEFAULT_MAX_SIZE_PER_MSG = 1024 * 1024;
/** Default maxInflight. */
export const DEFAULT_MAX_INFLIGHT = 256;

/** A logger that drops everything. */
export function noopRaftLogger(): RaftLogger {
  const drop = (): void => {};
  return { debug: drop, info: drop, warn: drop, error: drop };
}

function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1;
}

/**
 * Checks `cfg` and applies defaults. Throws InvariantError listing every problem with the field, the value and
 * the allowed range, e.g. `raft config: heartbeatTicks 10 must be < electionTicks 10`.
 */
export function resolveRaftConfig(cfg: RaftConfig): ResolvedConfig {
  const problems: string[] = [];
  if (typeof cfg.id !== 'string' || cfg.id === '') problems.push('id must be a non-empty string');
  if (typeof cfg.clusterId !== 'string' || cfg.clusterId === '')
    problems.push('clusterId must be a non-empty string');
  if (!isPositiveInt(cfg.electionTicks))
    problems.push(`electionTicks ${cfg.electionTicks} must be an integer >= 2`);
  if (!isPositiveInt(cfg.heartbeatTicks))
    problems.push(`heartbeatTicks ${cfg.heartbeatTicks} must be an integer >= 1`);
  else if (isPositiveInt(cfg.electionTicks) && cfg.heartbeatTicks >= cfg.electionTicks)
    problems.push(`heartbeatTicks ${cfg.heartbeatTicks} must be < electionTicks ${cfg.electionTicks}`);
  const candidateTicks = cfg.candidateTicks ?? cfg.electionTicks;
  if (
    !isPositiveInt(candidateTicks) ||
    (isPositiveInt(cfg.electionTicks) && candidateTicks < cfg.electionTicks)
  )
    problems.push(
      `candidateTicks ${candidateTicks} must be an integer >= electionTicks ${cfg.electionTicks}`,
    );
  const maxSizePerMsg = cfg.maxSizePerMsg ?? DEFAULT_MAX_SIZE_PER_MSG;
  if (!Number.isSafeInteger(maxSizePerMsg) || maxSizePerMsg < 0)
    problems.push(`maxSizePerMsg ${maxSizePerMsg} must be an integer >= 0`);
  const maxInflight = cfg.maxInflight ?? DEFAULT_MAX_INFLIGHT;
  if (!isPositiveInt(maxInflight)) problems.push(`maxInflight ${maxInflight} must be an integer >= 1`);
  if (cfg.applied !== undefined && (!Number.isSafeInteger(cfg.applied) || cfg.applied < 0))
    problems.push(`applied ${cfg.applied} must be an integer >= 0`);
  if (problems.length > 0) throw new InvariantError(`raft config: ${problems.join('; ')}`);
  return {
    id: cfg.id,
    clusterId: cfg.clusterId,
    electionTicks: cfg.electionTicks,
    heartbeatTicks: cfg.heartbeatTicks,
    candidateTicks,
    storage: cfg.storage,
    rand: cfg.rand,
    logger: cfg.logger ?? noopRaftLogger(),
    preVote: cfg.preVote ?? true,
    checkQuorum: cfg.checkQuorum ?? true,
    maxSizePerMsg,
    maxInflight,
    applied: cfg.applied,
  };
}
