/**
 * The types of the core's API: the RaftCore interface, the Ready it hands out, and status reports.
 *
 * The Ready contract, in this order (as etcd's; Raft thesis §3.8: a reply must not promise state that could
 * still be lost):
 *   1. If `snapshot`: storage.installSnapshot(snapshot) and restore the state machine from it.
 *   2. storage.append(entries) (it truncates any conflicting suffix), then storage.setHardState(hardState)
 *      when present; if `mustSync`, await storage.sync() before going on.
 *   3. Send `messages`. Votes and append acknowledgements in them rely on step 2 being durable: every message
 *      is emitted in the same Ready as (or a later one than) the state it depends on.
 *   4. Apply `committed` in order. Conf entries need no action: the core applied them when they were
 *      appended (thesis §4.1); their ConfChange.context (member addresses) is the shell's to read with
 *      decodeConfChange. Normal entries with empty data are a new leader's no-op: skip them. Hand `readStates`
 *      to waiting readers once the state machine applied their index.
 *   5. advance(rd). Exactly one Ready is outstanding at a time: ready() throws until advance() is called, and
 *      hasReady() is false meanwhile. tick(), step() and requests may be called between ready() and advance().
 */
import type { Entry, HardState, Snapshot } from '../storage.js';
import type { ConfChange, ConfState } from './conf-change.js';
import type { NodeId } from './config.js';
import type { Message } from './message.js';
import type { ProgressState } from './progress.js';
import type { ReadState, Role } from './raft.js';

/** Volatile state worth telling the shell about (leader changes, role). */
export interface SoftState {
  leader: NodeId | '';
  role: Role['kind'];
}

/** Work for the caller; see the module comment for the order. Plain data, owned by the caller. */
export interface Ready {
  /** Set when leader or role changed since the last Ready. */
  softState?: SoftState;
  /** Set when term, vote or commit changed; persist it with the entries. */
  hardState?: HardState;
  /** Entries to append to storage (replacing any conflicting suffix). */
  entries: Entry[];
  /** A snapshot from the leader to install before anything else. */
  snapshot?: Snapshot;
  /** Entries to apply, in order, after the hard state and entries are persisted. */
  committed: Entry[];
  /** Messages to send after persisting. */
  messages: Message[];
  /** Confirmed ReadIndex requests. */
  readStates: ReadState[];
  /** Whether step 2 must fsync (term, vote or entries changed) before messages go out. */
  mustSync: boolean;
}

/** A follower's replication state as the leader sees it. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  /** Heard from within the last election timeout. */
  recentActive: boolean;
}

/** A snapshot of the node's state for operators and the shell. */
export interface Status {
  id: NodeId;
  term: number;
  vote: NodeId | '';
  role: Role['kind'];
  leader: NodeId | '';
  commit: number;
  applied: number;
  lastIndex: number;
  conf: ConfState;
  /** Leader only: transfer in progress ('' none). */
  transferee?: NodeId | '';
  /** Leader only: every member's progress. A learner is caught up when `match` is close to `lastIndex`. */
  progress?: Record<NodeId, ProgressStatus>;
}

/** A Raft node as a pure state machine: the caller drives time (tick), I/O (Ready) and requests. */
export interface RaftCore {
  /** Advances logical time by one tick. */
  tick(): void;
  /** Processes a message from a peer. Stale or foreign input is logged and dropped, never thrown. */
  step(m: Message): void;
  /** Proposes a normal entry. Throws ProposalDroppedError (not-leader, transferring, removed, too-large). */
  propose(data: Uint8Array): void;
  /**
   * Proposes a single-server membership change; effective on append. Throws ProposalDroppedError
   * (not-leader, transferring, removed, not-committed-in-term, conf-change-pending, invalid-conf-change).
   */
  proposeConfChange(cc: ConfChange): void;
  /** Hands leadership to voter `to`. Throws ProposalDroppedError (not-leader, invalid-transfer). */
  transferLeadership(to: NodeId): void;
  /** Requests a linearizable read point; answered by a ReadState. Throws ProposalDroppedError (not-leader). */
  readIndex(ctx: Uint8Array): void;
  /** Starts an election now (pre-vote first when enabled), as if the election timer fired. */
  campaign(): void;
  /**
   * Bootstrap a brand-new single node cluster: conf = {voters:[id]} at index 1, term 1 (caller checks no state).
   * `context` is carried in that conf entry like any change's (the shell puts this node's addresses there).
   */
  bootstrap(context?: Uint8Array): void;
  /** Whether ready() has work (false while a Ready is outstanding). */
  hasReady(): boolean;
  /** Collects everything to persist, send and apply since the last Ready; see the module comment. */
  ready(): Ready;
  /** Acknowledges that `rd` (the last Ready) was handled in contract order. */
  advance(rd: Ready): void;
  status(): Status;
  /**
   * Builds a snapshot of the state machine at applied index `index` (data = its serialised state) for
   * storage.saveSnapshot: term from the log, configuration in effect at `index`. Throws SnapshotOutOfDateError
   * while a snapshot from the leader is pending (until the Ready carrying it is advanced) or when storage already
   * has a snapshot at or after `index`: skip and retry later. Call it between Readies.
   */
  createSnapshot(index: number, data: Uint8Array): Snapshot;
  /** The shell could not reach `id`: a follower being streamed to falls back to probing. */
  reportUnreachable(id: NodeId): void;
  /**
   * The shell finished (ok) or gave up (!ok) streaming a snapshot to `id`. Must be called for every snapshot
   * message sent: until then the leader sends that follower nothing but heartbeats (as etcd's ReportSnapshot).
   */
  reportSnapshot(id: NodeId, ok: boolean): void;
}
