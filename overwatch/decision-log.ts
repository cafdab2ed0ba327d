/**
 * Standalone mode's single-node log behind `propose` (issue #4): a proposed command is appended to the
 * durable log, fsynced, then applied to the state machine, and only then does `propose` resolve. On start the
 * latest snapshot is restored and the log after it replayed, so a restart keeps overrides and decisions.
 * Proposals arriving while a sync is in flight are batched into the next one (group commit).
 *
 * This is the seam the Raft issue replaces: the same `propose` with the same storage, where a standalone data
 * dir becomes a one-node cluster. Entries are written at term 1.
 */
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import { type Command, CommandSchema } from '../internal/gen/opengslb/v1/fsm_pb.js';
import type { Entry, Storage } from '../internal/raft/storage.js';
import { openFileStorage } from '../internal/raft/storage-file.js';
import type { EventRecord, Fsm } from './fsm.js';

export interface DecisionLog {
  /** Resolves once every command is durable and applied, with the events they produced. */
  propose(cmds: readonly Command[]): Promise<EventRecord[]>;
  /** Index of the last applied entry. */
  applied(): number;
  close(): Promise<void>;
}

const TERM = 1;

/** Opens the file log in `dir` (a torn tail is repaired and logged; corruption rejects) and replays it. */
export async function openStandaloneDecisionLog(
  opts: Omit<Parameters<typeof openDecisionLog>[0], 'storage'> & { dir: string },
): Promise<DecisionLog> {
  const { dir, ...rest } = opts;
  const storage = await openFileStorage(dir);
  for (const w of storage.warnings)
    opts.log.warn({ dir: storage.dir, warning: w }, 'decision log repaired on open');
  return openDecisionLog({ ...rest, storage });
}

export async function openDecisionLog(opts: {
  storage: Storage;
  fsm: Fsm;
  log: Logger;
  /** Entries between snapshots (cluster.raft.snapshot_threshold). */
  snapshotThreshold: number;
  /** Called after commands were applied, with their events (for logs, metrics, WatchEvents). */
  onApplied?: (events: EventRecord[]) => void;
}): Promise<DecisionLog> {
  const { storage, fsm, log } = opts;
  const snap = storage.snapshot();
  if (snap !== undefined) fsm.restore(snap.data);
  let applied = snap?.meta.index ?? 0;
  let lastSnapshot = applied;
  const last = storage.lastIndex();
  if (last > applied) {
    for (const e of storage.entries(applied + 1, last + 1)) {
      fsm.apply(fromBinary(CommandSchema, e.data));
      applied = e.index;
    }
  }
  log.info({ snapshot_index: snap?.meta.index ?? 0, applied }, 'decision log replayed');

  let queue: Array<{
    cmds: readonly Command[];
    resolve: (e: EventRecord[]) => void;
    reject: (e: unknown) => void;
  }> = [];
  let flushing: Promise<void> | undefined;
  let broken: unknown;

  async function flush(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      if (broken !== undefined) {
        for (const p of batch) p.reject(broken);
        continue;
      }
      try {
        let index = storage.lastIndex();
        const entries: Entry[] = batch.flatMap((p) =>
          p.cmds.map((c) => {
            index += 1;
            return { index, term: TERM, kind: 'normal' as const, data: toBinary(CommandSchema, c) };
          }),
        );
        if (entries.length > 0) {
          storage.append(entries);
          // In a single-node log every durable entry is committed; the commit index in the hard state (three
          // fsyncs per change) is refreshed only at snapshots, and replay applies the whole durable log.
          await storage.sync();
        }
        for (const p of batch) {
          const events: EventRecord[] = [];
          for (const c of p.cmds) {
            applied += 1;
            events.push(...fsm.apply(c));
          }
          opts.onApplied?.(events);
          p.resolve(events);
        }
        if (applied - lastSnapshot >= opts.snapshotThreshold) {
          const term = storage.term(applied);
          storage.setHardState({ term: TERM, vote: '', commit: applied });
          await storage.saveSnapshot(
            { meta: { index: applied, term, conf: new Uint8Array() }, data: fsm.snapshot() },
            100,
          );
          lastSnapshot = applied;
          log.info({ index: applied }, 'decision snapshot saved');
        }
      } catch (e: unknown) {
        // A failed fsync or an unsupported command leaves the state unknown: stop accepting, loudly.
        broken = e;
        log.error({ err: e }, 'decision log failed; no further decisions will be applied');
        for (const p of batch) p.reject(e);
      }
    }
  }

  // One flush loop at a time; a proposal that lands while the loop is finishing starts the next one.
  function kick(): void {
    if (flushing !== undefined) return;
    flushing = flush().finally(() => {
      flushing = undefined;
      if (queue.length > 0) kick();
    });
  }

  return {
    propose(cmds) {
      if (cmds.length === 0) return Promise.resolve([]);
      return new Promise((resolve, reject) => {
        queue.push({ cmds, resolve, reject });
        kick();
      });
    },
    applied: () => applied,
    async close() {
      await flushing;
      await storage.close();
    },
  };
}
