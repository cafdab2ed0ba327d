/**
 * The Raft shell's side of snapshots: the member address book as of the applied index (what a snapshot must
 * carry, see snapshot-data.ts), unwrapping snapshots for restore, and taking local snapshots when the policy
 * says so. Called by node.ts between Readies only, so a captured state is exactly the state at `applied`.
 */
import type { Logger } from 'pino';
import type { MemberAddresses } from '../gen/opengslb/v1/raft_pb.js';
import { decodeConfChange } from './core/conf-change.js';
import type { NodeId } from './core/config.js';
import { SnapshotOutOfDateError } from './core/errors.js';
import type { RaftCore } from './core/ready.js';
import { decodeMemberAddresses } from './raft-wire.js';
import { decodeSnapshotData, encodeSnapshotData, type SnapshotData } from './snapshot-data.js';
import { type SnapshotPolicy, snapshotDue } from './snapshot-policy.js';
import type { Entry, Snapshot, Storage } from './storage.js';

/** Options of {@link createSnapshotter}. */
export interface SnapshotterOptions {
  core: Pick<RaftCore, 'createSnapshot' | 'status'>;
  storage: Storage;
  log: Logger;
  /** Monotonic milliseconds (the shell's clock). */
  now(): number;
  /** Local snapshots; without them the snapshotter only tracks addresses and unwraps leaders' snapshots. */
  local?: {
    policy: SnapshotPolicy;
    /** The state machine's state after the last entry applied; called synchronously between Readies. */
    capture(): Uint8Array;
  };
}

/** See the module comment. */
export interface Snapshotter {
  /** Keeps the address book in step with an applied entry (conf entries' context; removals). */
  noteApplied(e: Entry): void;
  /** Decodes a snapshot (storage's at start, or a leader's) and resets the address book to its members. */
  open(s: Snapshot): SnapshotData;
  /** Takes a snapshot at the applied index and compacts the log if the policy says so. Storage errors reject. */
  maybeSnapshot(): Promise<void>;
}

/** Creates the snapshotter; the address book starts empty (restores and applied conf entries fill it). */
export function createSnapshotter(o: SnapshotterOptions): Snapshotter {
  const { core, storage, log } = o;
  let members = new Map<NodeId, MemberAddresses>();
  let lastAt = o.now();

  return {
    noteApplied(e) {
      if (e.kind !== 'conf') return;
      const cc = decodeConfChange(e.data);
      if (!cc.ok) return;
      if (cc.value.type === 'remove') {
        members.delete(cc.value.node);
        return;
      }
      if (cc.value.context === undefined) return;
      const a = decodeMemberAddresses(cc.value.context);
      if (a.ok) members.set(cc.value.node, a.value);
    },
    open(s) {
      const d = decodeSnapshotData(s.data, s.meta.index);
      members = new Map(d.members);
      lastAt = o.now();
      return d;
    },
    async maybeSnapshot() {
      if (o.local === undefined) return;
      const applied = core.status().applied;
      const snapshotIndex = storage.snapshot()?.meta.index ?? 0;
      const sinceSnapshotMs = o.now() - lastAt;
      const reason = snapshotDue(o.local.policy, { applied, snapshotIndex, sinceSnapshotMs });
      if (reason === undefined) return;
      let snap: Snapshot;
      try {
        snap = core.createSnapshot(applied, encodeSnapshotData({ members, state: o.local.capture() }));
      } catch (e: unknown) {
        // A leader's snapshot is about to replace our state: ours would be stale. The next Ready installs it.
        if (!(e instanceof SnapshotOutOfDateError)) throw e;
        log.debug({ err: e, applied }, 'local snapshot skipped');
        return;
      }
      const started = o.now();
      await storage.saveSnapshot(snap, o.local.policy.trailingEntries);
      lastAt = o.now();
      log.info(
        {
          index: snap.meta.index,
          reason,
          bytes: snap.data.byteLength,
          first_index: storage.firstIndex(),
          ms: Math.round(lastAt - started),
        },
        'raft snapshot saved; log compacted',
      );
    },
  };
}
