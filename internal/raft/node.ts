/**
 * The Raft shell: drives the pure core (./core) with a tick timer, durable storage and a transport. It alone
 * owns timers and I/O. One loop handles one Ready at a time, in the contract order of core/ready.ts: install
 * the snapshot, append entries and hard state and fsync them, only then send the messages (a vote or an append
 * acknowledgement must never promise state that a crash could lose; Raft thesis §3.8), apply committed
 * entries in order, advance.
 */
import type { Logger } from 'pino';
import { type ConfChange, decodeConfChange } from './core/conf-change.js';
import type { NodeId, Rand } from './core/config.js';
import type { Message } from './core/message.js';
import type { ReadState } from './core/raft.js';
import { createRaft } from './core/raw-node.js';
import type { Ready, SoftState, Status } from './core/ready.js';
import { createProposalTracker } from './proposal-tracker.js';
import { decodeMemberAddresses } from './raft-wire.js';
import type { Entry, Snapshot, Storage } from './storage.js';
import type { Transport, TransportFactory } from './transport.js';

/** Election timeout in ticks; one tick = heartbeatTimeoutMs / ELECTION_TICKS. */
export const ELECTION_TICKS = 10;
/** A leader heartbeats every tick: ten heartbeats per election timeout tolerate several lost ones. */
export const HEARTBEAT_TICKS = 1;

/** Options of {@link startRaftNode}. */
export interface RaftNodeOptions {
  id: NodeId;
  clusterId: string;
  /** Opened by the caller, who also closes it after stop(). */
  storage: Storage;
  /** Creates the transport; the node owns it and closes it on stop(). */
  transport: TransportFactory;
  /**
   * A follower that hears no leader for a random time in [T, 2T) with T = this campaigns, in ms. One tick is
   * T / 10 and the leader heartbeats every tick. Smaller = faster failover, more spurious elections on a slow
   * network. Must be >= 10.
   */
  heartbeatTimeoutMs: number;
  rand: Rand;
  /** Component logger (the node adds `node`). */
  log: Logger;
  /**
   * Applies a committed entry to the state machine, in log order, once each (again after a restart, from the
   * snapshot on). Called for normal entries with data and for conf entries; a leader's empty no-op is skipped.
   */
  apply(entry: Entry): void | Promise<void>;
  /** Replaces the state machine with a snapshot received from the leader. */
  restore?(snapshot: Snapshot): void | Promise<void>;
  /** Leader or role changed. */
  onSoftState?(s: SoftState): void;
  /** A linearizable read point was confirmed (also resolves readIndex()). */
  onReadState?(rs: ReadState): void;
  /** Storage or the state machine failed; the node has stopped itself. Default: logged at error only. */
  onFatal?(err: unknown): void;
  /** Start a new single-voter cluster when the storage is empty. */
  bootstrap?: boolean;
  /** Context of the bootstrap conf entry (the shell's member addresses), so every member learns them. */
  bootstrapContext?: Uint8Array;
  /** Raft addresses of peers known before any conf entry names them (the bootstrap node's, usually). */
  peers?: Record<NodeId, string>;
  /** How long readIndex() waits for its read point, in ms. Default 2 x heartbeatTimeoutMs. */
  readTimeoutMs?: number;
}

/** A running node. Requests throw (or reject with) ProposalDroppedError when the core refuses them. */
export interface RaftNode {
  /** Proposes `data`; resolves with its index once applied here. Rejects with ProposalDroppedError. */
  propose(data: Uint8Array): Promise<number>;
  /** Proposes a membership change; resolves with its index once applied here. */
  proposeConfChange(cc: ConfChange): Promise<number>;
  /** Resolves with a linearizable read index once the local state machine has applied it. */
  readIndex(): Promise<number>;
  /** Starts a leadership transfer to `to`. Throws ProposalDroppedError. */
  transferLeadership(to: NodeId): void;
  /**
   * A peer's self-advertised Raft address (RaftServiceOptions.onPeerAddress). Used only while no address is
   * known for `id`: addresses from conf entries and `peers` take precedence.
   */
  hintPeer(id: NodeId, address: string): void;
  /** Hands a message from a peer to the core (the RaftService calls this). Ignored once stopped. */
  step(m: Message): void;
  status(): Status;
  /** Stops ticking, lets the current Ready finish, closes the transport and rejects pending requests. */
  stop(): Promise<void>;
}

/** The node stopped before a request finished. */
export class RaftStoppedError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'RAFT_STOPPED';
  constructor(id: NodeId) {
    super(`raft: node ${id} stopped before the request finished`);
    this.name = 'RaftStoppedError';
  }
}

/** Creates the core from `opts.storage`, starts the tick timer and returns the running node. */
export function startRaftNode(opts: RaftNodeOptions): RaftNode {
  const { id, storage } = opts;
  if (!Number.isFinite(opts.heartbeatTimeoutMs) || opts.heartbeatTimeoutMs < ELECTION_TICKS)
    throw new RangeError(`raft: heartbeatTimeoutMs ${opts.heartbeatTimeoutMs} must be >= ${ELECTION_TICKS}`);
  const tickMs = opts.heartbeatTimeoutMs / ELECTION_TICKS;
  const log = opts.log.child({ node: id });
  const core = createRaft({
    id,
    clusterId: opts.clusterId,
    electionTicks: ELECTION_TICKS,
    heartbeatTicks: HEARTBEAT_TICKS,
    storage,
    rand: opts.rand,
    logger: log,
  });
  if (opts.bootstrap === true && storage.lastIndex() === 0 && storage.snapshot() === undefined) {
    core.bootstrap(opts.bootstrapContext);
  }
  let stopped = false;
  let running: Promise<void> | undefined;
  const tracker = createProposalTracker({
    id,
    readTimeoutMs: opts.readTimeoutMs ?? 2 * opts.heartbeatTimeoutMs,
    leader: () => core.status().leader,
    applied: core.status().applied,
  });
  const transport: Transport = opts.transport({
    unreachable: (peer) => {
      if (!stopped) core.reportUnreachable(peer);
    },
    snapshot: (peer, ok) => {
      if (stopped) return;
      core.reportSnapshot(peer, ok);
      kick();
    },
  });
  /** Addresses given to the transport, so hints never override an authoritative one. */
  const known = new Map<NodeId, string>();
  const setPeer = (peer: NodeId, address: string): void => {
    known.set(peer, address);
    transport.setPeer(peer, address);
  };
  for (const [peer, address] of Object.entries(opts.peers ?? {})) if (peer !== id) setPeer(peer, address);
  // Addresses of members added since the last snapshot live in their conf entries' context.
  if (storage.lastIndex() >= storage.firstIndex()) {
    for (const e of storage.entries(storage.firstIndex(), storage.lastIndex() + 1)) learnPeer(e);
  }

  /** Keeps the transport's address book in step with conf entries (on append and again on apply). */
  function learnPeer(e: Entry): void {
    if (e.kind !== 'conf') return;
    const cc = decodeConfChange(e.data);
    if (!cc.ok || cc.value.node === id) return;
    if (cc.value.type === 'remove') {
      known.delete(cc.value.node);
      transport.removePeer(cc.value.node);
      return;
    }
    if (cc.value.context === undefined) return;
    const addrs = decodeMemberAddresses(cc.value.context);
    if (addrs.ok && addrs.value.raft !== '') setPeer(cc.value.node, addrs.value.raft);
    else log.warn({ index: e.index, peer: cc.value.node }, 'conf entry without a usable Raft address');
  }

  /** One Ready in contract order (core/ready.ts). */
  async function handle(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) {
      log.info({ leader: rd.softState.leader, role: rd.softState.role }, 'raft soft state changed');
      opts.onSoftState?.(rd.softState);
    }
    if (rd.snapshot !== undefined) {
      await storage.installSnapshot(rd.snapshot);
      await opts.restore?.(rd.snapshot);
      tracker.applied(rd.snapshot.meta.index, undefined);
    }
    if (rd.entries.length > 0) storage.append(rd.entries);
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    if (rd.mustSync) await storage.sync();
    for (const e of rd.entries) learnPeer(e);
    transport.send(rd.messages);
    for (const e of rd.committed) {
      learnPeer(e);
      if (e.kind === 'conf' || e.data.byteLength > 0) await opts.apply(e);
      tracker.applied(e.index, e.term);
    }
    for (const rs of rd.readStates) {
      opts.onReadState?.(rs);
      tracker.readState(rs);
    }
  }

  async function loop(): Promise<void> {
    try {
      while (!stopped && core.hasReady()) {
        const rd = core.ready();
        await handle(rd);
        core.advance(rd);
      }
    } catch (e: unknown) {
      // Storage failures cannot be retried (a failed fsync may have lost pages) and a state machine that
      // failed midway is in an unknown state: stop rather than reply on state we may not have.
      log.error({ err: e }, 'raft node failed; stopping');
      stopped = true;
      clearInterval(timer);
      tracker.fail(e);
      opts.onFatal?.(e);
    }
  }

  /** Starts the loop unless it runs; a running loop re-checks hasReady() before it exits. */
  function kick(): void {
    if (stopped || running !== undefined) return;
    running = loop().finally(() => {
      running = undefined;
      if (!stopped && core.hasReady()) kick();
    });
  }

  // setInterval runs on libuv's monotonic clock, so wall-clock steps do not shorten or stretch timeouts.
  const timer = setInterval(() => {
    core.tick();
    kick();
  }, tickMs);
  kick();

  /** Runs a core request that may throw ProposalDroppedError, as a rejection. */
  function request(fn: () => void): Promise<number> {
    if (stopped) return Promise.reject(new RaftStoppedError(id));
    try {
      fn();
    } catch (e: unknown) {
      return Promise.reject(e);
    }
    // The leader appended the entry synchronously: it is the last one, in the current term.
    const st = core.status();
    const p = tracker.propose(st.lastIndex, st.term);
    kick();
    return p;
  }

  return {
    propose: (data) => request(() => core.propose(data)),
    proposeConfChange: (cc) => request(() => core.proposeConfChange(cc)),
    readIndex() {
      if (stopped) return Promise.reject(new RaftStoppedError(id));
      const { context, done } = tracker.read();
      try {
        core.readIndex(context);
      } catch (e: unknown) {
        tracker.cancelRead(context, e);
        return done;
      }
      kick();
      return done;
    },
    transferLeadership(to) {
      if (stopped) throw new RaftStoppedError(id);
      core.transferLeadership(to);
      kick();
    },
    hintPeer(peer, address) {
      if (stopped || peer === id || known.has(peer)) return;
      log.info({ peer, address }, 'using the Raft address a peer advertised');
      setPeer(peer, address);
    },
    step(m) {
      if (stopped) return;
      core.step(m);
      kick();
    },
    status: () => core.status(),
    async stop() {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
      }
      await running;
      tracker.fail(new RaftStoppedError(id));
      await transport.close();
    },
  };
}
