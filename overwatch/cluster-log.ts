/**
 * Cluster mode's decision log: the same `propose` as the standalone log (./decision-log.ts), over a Raft node.
 * Each Command is one normal Raft entry; `propose` resolves once every entry is applied on this node. Only the
 * leader accepts proposals: a follower rejects with {@link NotLeaderError} naming the leader it knows.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { type Command, CommandSchema } from '../internal/gen/opengslb/v1/fsm_pb.js';
import type { RaftNode } from '../internal/raft/node.js';
import type { Entry } from '../internal/raft/storage.js';
import type { DecisionLog } from './decision-log.js';
import type { EventRecord, Fsm } from './fsm.js';

/** A proposal reached a node that is not the leader. */
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
  attach(raft: RaftNode): void;
}

/** Creates the Raft-backed decision log. The FSM is rebuilt by replay: Raft re-applies from its snapshot on. */
export function createClusterLog(opts: {
  fsm: Fsm;
  log: Logger;
  onApplied?: (events: EventRecord[]) => void;
}): ClusterLog {
  const { fsm, log } = opts;
  let raft: RaftNode | undefined;
  let applied = 0;
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
      opts.onApplied?.(events);
    },
    attach(r) {
      raft = r;
    },
    async propose(cmds) {
      if (cmds.length === 0) return [];
      const r = raft;
      if (r === undefined) throw new Error('cluster: decision log used before the Raft node started');
      const st = r.status();
      if (st.role !== 'leader') throw new NotLeaderError(st.leader);
      // Proposed back to back, so the entries are consecutive and applied in order.
      const all = await Promise.all(cmds.map((c) => proposeOne(r, c)));
      return all.flat();
    },
    applied: () => applied,
    async close() {
      log.debug({ applied }, 'cluster decision log closed');
    },
  };
}
