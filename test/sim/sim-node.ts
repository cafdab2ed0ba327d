/**
 * One simulated node, driven as the runtime shell drives the core (ready.ts contract): on a Ready, install the
 * snapshot, append entries and set the hard state, then, when `mustSync`, wait for a sync that completes at a
 * later virtual time; only then send the messages, apply the committed entries and advance. A crash in between
 * discards the Ready and every write since the last completed sync (crashable memory storage).
 */

import type { Message } from '../../internal/raft/core/message.js';
import type { ReadState } from '../../internal/raft/core/raft.js';
import { createRaft } from '../../internal/raft/core/raw-node.js';
import type { RaftCore, Ready } from '../../internal/raft/core/ready.js';
import type { Entry } from '../../internal/raft/storage.js';
import type { CrashableMemoryStorage } from '../../internal/raft/storage-memory.js';
import type { SeededRand } from '../../internal/testkit/seeded-rand.js';
import { type InvariantChecker, payloadOf, violation } from './invariants.js';

/** A node's process and disk. `inc` counts incarnations so stale sync completions are ignored. */
export interface SimNode {
  readonly id: string;
  readonly storage: CrashableMemoryStorage;
  raft: RaftCore;
  up: boolean;
  /** Its removal was applied: the process stopped for good. */
  removed: boolean;
  inc: number;
  /** State machine: index -> command payload of every applied non-empty normal entry. */
  sm: Map<number, string>;
  lastApplied: number;
  /** The Ready waiting for its sync; no other Ready is taken meanwhile. */
  pending: Ready | undefined;
}

/** What a node needs from the simulator around it. */
export interface SimNodeHost {
  rand: SeededRand;
  inv: InvariantChecker;
  preVote: boolean;
  checkQuorum: boolean;
  /** Applied entries after which a node snapshots its state machine and compacts its log. */
  compactEvery: number;
  /** Hands a message to the network (after the sync it depends on). */
  send(m: Message): void;
  /** Arranges `completeSync(node, inc)` to run at a later virtual time. */
  scheduleSync(n: SimNode, inc: number): void;
  /** Called after the state machine applied `e` (client acknowledgements, membership bookkeeping). */
  onApplied(n: SimNode, e: Entry): void;
  /** A ReadIndex request of this node was answered with a read point. */
  onReadState(n: SimNode, rs: ReadState): void;
  /** Collects storage promises so the simulator can surface their rejections. */
  track(p: Promise<void>): void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

function restoreMachine(data: Uint8Array | undefined): Map<number, string> {
  return new Map(data === undefined ? [] : (JSON.parse(dec.decode(data)) as [number, string][]));
}

function boot(host: SimNodeHost, id: string, storage: CrashableMemoryStorage): RaftCore {
  return createRaft({
    id,
    clusterId: 'sim',
    electionTicks: 10,
    heartbeatTicks: 2,
    storage,
    rand: host.rand,
    preVote: host.preVote,
    checkQuorum: host.checkQuorum,
    maxInflight: 4,
    maxSizePerMsg: 64,
  });
}

/** Starts a node on `storage` (holding a bootstrap snapshot, or empty for a node that waits to be added). */
export function startNode(host: SimNodeHost, id: string, storage: CrashableMemoryStorage): SimNode {
  const snap = storage.snapshot();
  return {
    id,
    storage,
    raft: boot(host, id, storage),
    up: true,
    removed: false,
    inc: 0,
    sm: restoreMachine(snap?.data),
    lastApplied: snap?.meta.index ?? 0,
    pending: undefined,
  };
}

/** Kills the process: the outstanding Ready and every unsynced write are lost. */
export function crashNode(n: SimNode): void {
  n.up = false;
  n.inc++;
  n.pending = undefined;
  n.storage.crash();
}

/** Restarts a crashed node from what its disk holds. */
export function restartNode(host: SimNodeHost, n: SimNode): void {
  const snap = n.storage.snapshot();
  n.raft = boot(host, n.id, n.storage);
  n.sm = restoreMachine(snap?.data);
  n.lastApplied = snap?.meta.index ?? 0;
  n.up = true;
}

/** Reports what the event just did to the node to the checker (role, term, commit). */
export function observeNode(host: SimNodeHost, n: SimNode): void {
  if (!n.up) return;
  const st = n.raft.status();
  host.inv.observe(n.id, st.role, st.term, st.commit);
}

function apply(host: SimNodeHost, n: SimNode, e: Entry, term: number): void {
  if (e.index !== n.lastApplied + 1)
    throw violation('apply order', `node ${n.id} applied index ${e.index} after ${n.lastApplied}`);
  n.lastApplied = e.index;
  host.inv.applied(n.id, e, term);
  if (e.kind === 'normal' && e.data.byteLength > 0) n.sm.set(e.index, payloadOf(e));
  host.onApplied(n, e);
}

function maybeCompact(host: SimNodeHost, n: SimNode): void {
  const snapIndex = n.storage.snapshot()?.meta.index ?? 0;
  if (n.lastApplied - snapIndex < host.compactEvery) return;
  const data = enc.encode(JSON.stringify([...n.sm]));
  host.track(n.storage.saveSnapshot(n.raft.createSnapshot(n.lastApplied, data), host.rand.int(4)));
}

function finish(host: SimNodeHost, n: SimNode, rd: Ready): void {
  if (rd.mustSync) host.track(n.storage.sync());
  for (const m of rd.messages) host.send(m);
  const term = n.storage.hardState().term;
  for (const e of rd.committed) {
    apply(host, n, e, term);
    if (n.removed) return; // the process stops at its own removal
  }
  for (const rs of rd.readStates) host.onReadState(n, rs);
  n.raft.advance(rd);
}

function write(host: SimNodeHost, n: SimNode, rd: Ready): void {
  const { storage } = n;
  if (rd.snapshot !== undefined) {
    host.track(storage.installSnapshot(rd.snapshot));
    n.sm = restoreMachine(rd.snapshot.data);
    n.lastApplied = rd.snapshot.meta.index;
  }
  const first = rd.entries[0];
  if (first !== undefined) {
    storage.append(rd.entries);
    const p = first.index - 1;
    const prevTerm = p >= storage.firstIndex() - 1 ? storage.term(p) : undefined;
    host.inv.appended(n.id, rd.entries, prevTerm);
  }
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
}

/** Takes and handles Readies until one waits for its sync or there is no more work. */
export function pump(host: SimNodeHost, n: SimNode): void {
  while (n.up && !n.removed && n.pending === undefined && n.raft.hasReady()) {
    const rd = n.raft.ready();
    write(host, n, rd);
    if (rd.softState?.role === 'leader') {
      const s = n.storage;
      host.inv.leaderLog(n.id, s.hardState().term, {
        firstIndex: s.firstIndex(),
        lastIndex: s.lastIndex(),
        term: (i) => s.term(i),
      });
    }
    if (rd.mustSync) {
      n.pending = rd;
      host.scheduleSync(n, n.inc);
      return;
    }
    finish(host, n, rd);
  }
  // Only when idle: with a leader's snapshot still inside the core, createSnapshot at our applied index
  // (below it) would find that index gone.
  if (n.up && !n.removed && n.pending === undefined) maybeCompact(host, n);
}

/** The sync of the pending Ready of incarnation `inc` completed: finish it and go on. */
export function completeSync(host: SimNodeHost, n: SimNode, inc: number): void {
  const rd = n.pending;
  if (inc !== n.inc || rd === undefined || !n.up) return;
  n.pending = undefined;
  finish(host, n, rd);
  pump(host, n);
}
