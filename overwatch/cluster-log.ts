/**
 * Cluster mode's decision log: the same `propose` as the standalone log (./decision-log.ts), over a Raft node.
 * Each Command is one normal Raft entry; `propose` resolves once every entry is applied on this node. Only the
 * leader proposes; a follower forwards each Command to the leader (RaftService.Forward) and answers once it has
 * applied the returned index itself, so a read on the same node after the write sees it. With no reachable
 * leader it rejects with {@link NotLeaderError}.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { type Command, CommandSchema } from '../internal/gen/opengslb/v1/fsm_pb.js';
import type { RaftNode } from '../internal/raft/node.js';
import type { Entry } from '../internal/raft/storage.js';
import type { DecisionLog } from './decision-log.js';
import type { EventRecord, Fsm } from './fsm.js';

/** A proposal reached a node that is not the leader and could not be forwarded to one (none known or reachable). */
export class NotLeaderError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'NOT_LEADER';
  constructor(readonly leaderHint: string) {
    super(
      `cluster: this node is not the leader; send writes to ${leaderHint === '' ? 'the leader (unknown right now)' : `leader ${leaderHint}`}`,
    );
    this.name = 'NotLeaderError';
  }
}

/** The apply side, created before the Raft node (the node needs `apply`), bound to it with `attach`. */
export interface ClusterLog extends DecisionLog {
  /** RaftNodeOptions.apply: applies a committed normal entry to the FSM, in log order. */
  apply(entry: Entry): void;
  /**
   * Binds the Raft node; `forward` sends an encoded Command to the current leader and resolves with the index
   * the leader applied it at (rejecting with NotLeaderError when there is no reachable leader).
   */
  attach(raft: RaftNode, forward?: (command: Uint8Array) => Promise<number>): void;
  /** The FSM's state as of the last applied entry (RaftNodeOptions.snapshots.capture). */
  snapshot(): Uint8Array;
  /** Replaces the FSM with a snapshot's state at `index` (RaftNodeOptions.restore). */
  restore(state: Uint8Array, index: number): void;
  /** Leader only: proposes one encoded Command; resolves with its index once applied here (Forward's server side). */
  proposeEncoded(command: Uint8Array): Promise<number>;
}

/** How long a follower waits to apply a forwarded entry the leader already applied, in ms. */
const FORWARD_APPLY_TIMEOUT_MS = 5_000;
/** Events of the most recent applied entries kept for forwarded proposals (their answer may arrive after apply). */
const RECENT_EVENTS = 256;

/** Creates the Raft-backed decision log. The FSM is rebuilt by replay: Raft re-applies from its snapshot on. */
export function createClusterLog(opts: {
  fsm: Fsm;
  log: Logger;
  onApplied?: (events: EventRecord[]) => void;
}): ClusterLog {
  const { fsm, log } = opts;
  let raft: RaftNode | undefined;
  let forward: ((command: Uint8Array) => Promise<number>) | undefined;
  let applied = 0;
  /** Events by index of the last RECENT_EVENTS applied entries (insertion order = index order). */
  const recent = new Map<number, EventRecord[]>();
  /** Forwarded proposals waiting for this node to apply their index. */
  const appliedWaiters = new Set<{ index: number; resolve: () => void; reject: (e: Error) => void }>();

  function whenApplied(index: number): Promise<void> {
    if (applied >= index) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const w = {
        index,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        appliedWaiters.delete(w);
        reject(
          new Error(
            `cluster: entry ${index} committed by the leader not applied here within ${FORWARD_APPLY_TIMEOUT_MS} ms (applied ${applied})`,
          ),
        );
      }, FORWARD_APPLY_TIMEOUT_MS);
      appliedWaiters.add(w);
    });
  }
  /** Events of entries a local proposal waits for, keyed by index; deleted when the proposal settles. */
  const waiting = new Map<number, EventRecord[] | undefined>();

  async function proposeOne(r: RaftNode, c: Command): Promise<EventRecord[]> {
    const p = r.propose(toBinary(CommandSchema, c));
    // The leader appends synchronously, so the entry is the last one (RaftNode.propose does the same).
    const index = r.status().lastIndex;
    waiting.set(index, undefined);
    try {
      await p;
      return waiting.get(index) ?? [];
    } finally {
      waiting.delete(index);
    }
  }

  return {
    apply(entry) {
      if (entry.kind !== 'normal') return; // membership lives in the Raft configuration
      const events = fsm.apply(fromBinary(CommandSchema, entry.data));
      applied = entry.index;
      if (waiting.has(entry.index)) waiting.set(entry.index, events);
      recent.set(entry.index, events);
      if (recent.size > RECENT_EVENTS) {
        const oldest = recent.keys().next();
        if (oldest.done !== true) recent.delete(oldest.value);
      }
      for (const w of appliedWaiters) {
        if (w.index <= applied) {
          appliedWaiters.delete(w);
          w.resolve();
        }
      }
      opts.onApplied?.(events);
    },
    snapshot: () => fsm.snapshot(),
    restore(state, index) {
      const seen = fsm.state().nextEventId;
      fsm.restore(state);
      applied = index;
      // Events of entries inside the snapshot are gone; a forwarded write waiting for one answers without them.
      recent.clear();
      for (const w of appliedWaiters) {
        if (w.index <= applied) {
          appliedWaiters.delete(w);
          w.resolve();
        }
      }
      log.info({ index }, 'state machine restored from a Raft snapshot');
      // The snapshot skipped the entries that made its newer events: hand the retained ones on, so live
      // WatchEvents streams on a follower that caught up by snapshot do not silently miss them.
      opts.onApplied?.(fsm.state().events.filter((e) => e.id >= seen));
    },
    attach(r, fwd) {
      raft = r;
      forward = fwd;
    },
    async proposeEncoded(command) {
      const r = raft;
      if (r === undefined) throw new Error('cluster: decision log used before the Raft node started');
      const st = r.status();
      if (st.role !== 'leader') throw new NotLeaderError(st.leader);
      return r.propose(command);
    },
    async propose(cmds) {
      if (cmds.length === 0) return [];
      const r = raft;
      if (r === undefined) throw new Error('cluster: decision log used before the Raft node started');
      const st = r.status();
      if (st.role !== 'leader') {
        if (forward === undefined) throw new NotLeaderError(st.leader);
        // One at a time, so the leader appends them in the order given.
        const out: EventRecord[] = [];
        for (const c of cmds) {
          const index = await forward(toBinary(CommandSchema, c));
          await whenApplied(index);
          out.push(...(recent.get(index) ?? []));
        }
        return out;
      }
      // Proposed back to back, so the entries are consecutive and applied in order.
      const all = await Promise.all(cmds.map((c) => proposeOne(r, c)));
      return all.flat();
    },
    applied: () => applied,
    async close() {
      // Forwarded writes still waiting for their entry end now; their callers see the node shutting down.
      for (const w of appliedWaiters)
        w.reject(new Error(`cluster: decision log closed before entry ${w.index} applied`));
      appliedWaiters.clear();
      log.debug({ applied }, 'cluster decision log closed');
    },
  };
}
