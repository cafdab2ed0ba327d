/**
 * The Raft shell: drives the pure core (./core) with a tick timer, durable storage and a transport. It alone
 * owns timers and I/O. One loop handles one Ready at a time, in the contract order of core/ready.ts: install
 * the snapshot, append entries and hard state and fsync them, only then send the messages (a vote or an append
 * acknowledgement must never promise state that a crash could lose; Raft thesis §3.8), apply committed
 * entries in order, advance.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { MemberAddresses } from '../gen/opengslb/v1/raft_pb.js';
import { type ConfChange, decodeConfChange } from './core/conf-change.js';
import type { NodeId, Rand } from './core/config.js';
import type { Message } from './core/message.js';
import type { ReadState } from './core/raft.js';
import { createRaft } from './core/raw-node.js';
import type { Ready, SoftState, Status } from './core/ready.js';
import { createLeaderLease, raftTiming } from './lease.js';
import { createProposalTracker } from './proposal-tracker.js';
import { decodeMemberAddresses } from './raft-wire.js';
import type { SnapshotPolicy } from './snapshot-policy.js';
import { createSnapshotter } from './snapshotter.js';
import type { Entry, SnapshotMeta, Storage } from './storage.js';
import type { Transport, TransportFactory } from './transport.js';

/** Options of {@link startRaftNode}. */
export interface RaftNodeOptions {
  id: NodeId;
  clusterId: string;
  /** Opened by the caller, who also closes it after stop(). */
  storage: Storage;
  /** Creates the transport; the node owns it and closes it on stop(). */
  transport: TransportFactory;
  /**
   * A follower that hears no leader for a random time in [T, 2T) with T = this starts a pre-vote, in ms
   * (hashicorp/raft's HeartbeatTimeout). One tick is T / 10 and the leader heartbeats every tick; the leader
   * lease lasts 0.75 T (lease.ts). Smaller = faster failover, more spurious elections on a slow network.
   * Must be >= 5.
   */
  heartbeatTimeoutMs: number;
  /**
   * How long a (pre-)candidate's election lasts before it starts over, randomized in [E, 2E), in ms
   * (hashicorp/raft's ElectionTimeout). Must be >= heartbeatTimeoutMs. Default heartbeatTimeoutMs.
   */
  electionTimeoutMs?: number;
  rand: Rand;
  /** Component logger (the node adds `node`). */
  log: Logger;
  /**
   * Applies a committed entry to the state machine, in log order, once each (again after a restart, from the
   * snapshot on). Called for normal entries with data and for conf entries; a leader's empty no-op is skipped.
   */
  apply(entry: Entry): void | Promise<void>;
  /**
   * Replaces the state machine with a snapshot: storage's at start (before any entry after it is applied) and
   * a leader's (InstallSnapshot). `state` is what `snapshots.capture` returned on the node that took it;
   * `members` the addresses of the members at `meta.index` (compaction dropped the conf entries that had them).
   */
  restore?(
    state: Uint8Array,
    meta: SnapshotMeta,
    members: ReadonlyMap<NodeId, MemberAddresses>,
  ): void | Promise<void>;
  /**
   * Local snapshots and log compaction (snapshot-policy.ts); without it the log grows forever. `capture`
   * returns the state machine's state after the last entry `apply` was given; it is called synchronously
   * between Readies, so that state is exactly the one at the applied index.
   */
  snapshots?: { policy: SnapshotPolicy; capture(): Uint8Array };
  /** Leader or role changed; `term` is the node's term as it handles the change. */
  onSoftState?(s: SoftState, term: number): void;
  /** A linearizable read point was confirmed (also resolves readIndex()). */
  onReadState?(rs: ReadState): void;
  /** Storage or the state machine failed; the node has stopped itself. Default: logged at error only. */
  onFatal?(err: unknown): void;
  /** Start a new single-voter cluster when the storage is empty. */
  bootstrap?: boolean;
  /** Context of the bootstrap conf entry (this node's member addresses), so every member learns them. */
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
  /**
   * Whether this node leads and holds the leader lease at monotonic time `now` (performance.now()): no other
   * leader can have been elected yet (lease.ts). False while a leadership transfer runs. One comparison: cheap
   * enough to ask per DNS query.
   */
  hasLease(now: number): boolean;
  /**
   * Monotonic time (performance.now()) at which a message from the current leader last arrived here, or
   * undefined if none has since start. Not updated on the leader itself.
   */
  lastContact(): number | undefined;
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
  const timing = raftTiming(opts.heartbeatTimeoutMs, opts.electionTimeoutMs);
  const log = opts.log.child({ node: id });
  const core = createRaft({
    id,
    clusterId: opts.clusterId,
    electionTicks: timing.electionTicks,
    heartbeatTicks: timing.heartbeatTicks,
    candidateTicks: timing.candidateTicks,
    storage,
    rand: opts.rand,
    logger: log,
  });
  if (opts.bootstrap === true && storage.lastIndex() === 0 && storage.snapshot() === undefined) {
    core.bootstrap(opts.bootstrapContext);
  }
  const snaps = createSnapshotter({
    core,
    storage,
    log,
    now: () => performance.now(),
    ...(opts.snapshots === undefined ? {} : { local: opts.snapshots }),
  });
  let stopped = false;
  let running: Promise<void> | undefined;
  const lease = createLeaderLease(id, timing.leaseMs);
  let contact: number | undefined;
  /** The role as of the last Ready handled; a lease confirmed in a Ready that also deposed us must not count. */
  let leading = false;
  const tracker = createProposalTracker({
    id,
    incarnation: randomBytes(6).toString('hex'),
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
  /** Removed peers whose transport entry waits until the core no longer replicates to them. */
  const removing = new Set<NodeId>();
  const setPeer = (peer: NodeId, address: string): void => {
    known.set(peer, address);
    transport.setPeer(peer, address);
  };
  for (const [peer, address] of Object.entries(opts.peers ?? {})) if (peer !== id) setPeer(peer, address);
  /** Storage's snapshot, restored into the state machine by the first loop before anything is applied. */
  const stored = storage.snapshot();
  let startup = stored === undefined ? undefined : { meta: stored.meta, ...snaps.open(stored) };
  if (startup !== undefined) learnMembers(startup.members);
  // Addresses of members added since the last snapshot live in their conf entries' context.
  if (storage.lastIndex() >= storage.firstIndex()) {
    for (const e of storage.entries(storage.firstIndex(), storage.lastIndex() + 1)) learnPeer(e, true);
  }

  /**
   * Keeps the transport's address book in step with conf entries (on append and again on apply). A removed
   * peer is dropped once its removal is applied and, on the leader, once the core stopped replicating to it:
   * the leader keeps sending a live removed node the entry that removes it (Raft thesis §4.2.2), or it would
   * never learn it left and keep campaigning.
   */
  function learnPeer(e: Entry, applied: boolean): void {
    if (e.kind !== 'conf') return;
    const cc = decodeConfChange(e.data);
    if (!cc.ok || cc.value.node === id) return;
    if (cc.value.type === 'remove') {
      if (!applied) return;
      removing.add(cc.value.node);
      dropRemovedPeers();
      return;
    }
    if (cc.value.context === undefined) return;
    const addrs = decodeMemberAddresses(cc.value.context);
    if (addrs.ok && addrs.value.raft !== '') setPeer(cc.value.node, addrs.value.raft);
    else log.warn({ index: e.index, peer: cc.value.node }, 'conf entry without a usable Raft address');
  }

  function dropRemovedPeers(): void {
    if (removing.size === 0) return;
    const progress = core.status().progress;
    for (const peer of removing) {
      if (progress?.[peer] !== undefined) continue;
      removing.delete(peer);
      known.delete(peer);
      transport.removePeer(peer);
    }
  }

  /** Feeds a snapshot's address book to the transport. */
  function learnMembers(members: ReadonlyMap<NodeId, MemberAddresses>): void {
    for (const [peer, a] of members) if (peer !== id && a.raft !== '') setPeer(peer, a.raft);
  }

  /** One Ready in contract order (core/ready.ts). */
  async function handle(rd: Ready): Promise<void> {
    if (rd.softState !== undefined) {
      log.info({ leader: rd.softState.leader, role: rd.softState.role }, 'raft soft state changed');
      // A new term's leadership starts without a lease: it is earned by the first confirmed lease read.
      lease.revoke();
      leading = rd.softState.role === 'leader';
      // A leader's freshness is its lease; contact from an earlier leader must not vouch for it later.
      if (leading) contact = undefined;
      // Ask for the first lease now rather than at the next tick (up to T/10 later): the core holds the read
      // until this term's no-op commits, and a new leader answers DNS that much sooner after a failover.
      if (leading) renewLease();
      opts.onSoftState?.(rd.softState, rd.hardState?.term ?? storage.hardState().term);
    }
    if (rd.snapshot !== undefined) {
      await storage.installSnapshot(rd.snapshot);
      const d = snaps.open(rd.snapshot);
      learnMembers(d.members);
      log.info(
        { index: rd.snapshot.meta.index, bytes: rd.snapshot.data.byteLength },
        'restoring a leader snapshot',
      );
      await opts.restore?.(d.state, rd.snapshot.meta, d.members);
      tracker.applied(rd.snapshot.meta.index, undefined);
    }
    if (rd.entries.length > 0) storage.append(rd.entries);
    if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
    if (rd.mustSync) await storage.sync();
    for (const e of rd.entries) learnPeer(e, false);
    transport.send(rd.messages);
    for (const e of rd.committed) {
      learnPeer(e, true);
      snaps.noteApplied(e);
      if (e.kind === 'conf' || e.data.byteLength > 0) await opts.apply(e);
      tracker.applied(e.index, e.term);
    }
    for (const rs of rd.readStates) {
      if (lease.confirm(rs.context)) continue;
      opts.onReadState?.(rs);
      tracker.readState(rs);
    }
  }

  async function loop(): Promise<void> {
    try {
      if (startup !== undefined) {
        const s = startup;
        startup = undefined;
        log.info({ index: s.meta.index }, 'restoring the stored snapshot');
        await opts.restore?.(s.state, s.meta, s.members);
      }
      while (!stopped && core.hasReady()) {
        const rd = core.ready();
        await handle(rd);
        core.advance(rd);
        await snaps.maybeSnapshot();
      }
      // Also when idle, so snapshot_interval works on a node that applied its last entry a while ago.
      if (!stopped) await snaps.maybeSnapshot();
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
    renewLease();
    dropRemovedPeers();
    kick();
  }, timing.tickMs);
  kick();

  /** On the leader (not transferring): one lease read per tick, its context naming the issue time. */
  function renewLease(): void {
    const st = core.status();
    if (st.role !== 'leader' || (st.transferee ?? '') !== '') return;
    try {
      core.readIndex(lease.issue(performance.now()));
    } catch (e: unknown) {
      // Only a non-leader refuses reads, and this one leads: a refusal here is a bug worth a line.
      log.warn({ err: e }, 'lease read refused');
    }
  }

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
      // The transferee campaigns at once, overriding the followers' lease side: ours ends now.
      if (core.status().transferee === to) lease.revoke();
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
      if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        // The core accepted it as its leader's iff it now follows the sender (a stale term is answered only).
        const st = core.status();
        if (st.role === 'follower' && st.leader === m.from) contact = performance.now();
      }
      kick();
    },
    status: () => core.status(),
    hasLease: (now) => leading && lease.holds(now),
    lastContact: () => contact,
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
