/**
 * Storage on local disk, to Raft's durability rules: term, vote and entries are fsynced before sync()
 * resolves, so nothing a reply depended on is lost in a crash.
 *
 * Data directory layout:
 *
 *   LOCK                           pid of the owning process (dir-lock.ts)
 *   hardstate                      term, vote, commit; replaced atomically (state-format.ts)
 *   log-<20-digit first index>.seg length-prefixed, CRC-checked entry records (segment-format.ts);
 *                                  a new segment starts once the current one reaches segmentBytes
 *   snap-<20-digit index>-<20-digit term>.snap
 *                                  snapshots, written atomically; the newest 2 are kept
 *   *.tmp, *.corrupt               an interrupted atomic write (removed at open); a damaged snapshot set aside
 *
 * Writes: append()/setHardState() only change memory and a plan of file operations (segment-set.ts); sync()
 * takes the plan as it stands and runs it on a queue, one job at a time: unlink, truncate, write and fsync
 * segments in order, then replace `hardstate` (temp file, fsync, rename, fsync directory). Log before hard
 * state, so a durable commit index never points past the durable log. A failed write or fsync fails the
 * storage for good: after a failed fsync the kernel may have dropped the dirty pages, so a retry could
 * "succeed" over lost data.
 *
 * Disk compaction is coarser than the in-memory log: whole segments are deleted, and only those also covered
 * by the previous snapshot, so the older of the two kept snapshots stays usable if the newer one is damaged.
 * After a restart firstIndex may therefore be lower than before; the extra entries are committed ones.
 */

import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { acquireDirLock } from './dir-lock.js';
import { fsyncDir, writeAllAt, writeFileAtomic } from './durable-file.js';
import { InvariantError } from './errors.js';
import { type Recovered, recoverDataDir } from './file-recovery.js';
import { assertCrc32Available } from './segment-format.js';
import { createSegmentSet, type SegmentJob } from './segment-set.js';
import {
  encodeHardState,
  encodeSnapshot,
  HARD_STATE_FILE,
  parseSnapshotName,
  snapshotName,
} from './state-format.js';
import type { Entry, HardState, Snapshot, Storage } from './storage.js';
import { createStorageState } from './storage-state.js';

/** Default segment size: 64 MiB. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
/** Snapshots kept on disk: the newest and one fallback. */
const SNAPSHOTS_KEPT = 2;

/** Options of {@link openFileStorage}. */
export interface FileStorageOptions {
  /**
   * A new segment starts once the current one holds at least this many bytes (a segment may exceed it by one
   * record). Default 64 MiB; smaller segments let compaction free disk sooner at the cost of more files.
   */
  segmentBytes?: number;
}

/** A Storage on disk, with what the open had to repair. */
export interface FileStorage extends Storage {
  /** Absolute data directory. */
  readonly dir: string;
  /** Repairs made at open (torn tail truncated, damaged snapshot set aside, superseded log removed); log them at warn. */
  readonly warnings: readonly string[];
}

interface Job {
  segments: SegmentJob | undefined;
  hardState: HardState | undefined;
}

/**
 * Opens (creating if needed) the data directory `dir` and recovers its durable state. Throws LockedError if
 * another live process holds it, CorruptionError (file, offset) if acknowledged data is damaged, and an Error
 * if this Node lacks zlib.crc32.
 */
export async function openFileStorage(dir: string, opts: FileStorageOptions = {}): Promise<FileStorage> {
  assertCrc32Available();
  const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) {
    throw new RangeError(
      `openFileStorage: segmentBytes ${segmentBytes} is not an integer in [1, ${MAX_SEGMENT_BYTES}]`,
    );
  }
  const root = resolve(dir);
  await mkdir(root, { recursive: true, mode: 0o750 });
  const lock = await acquireDirLock(root);
  let recovered: Recovered;
  try {
    recovered = await recoverDataDir(root);
  } catch (e: unknown) {
    await lock.release();
    throw e;
  }
  const state = createStorageState(recovered);
  const segments = createSegmentSet(recovered.segments, segmentBytes);
  const handles = new Map<string, FileHandle>();
  let written: HardState = recovered.hardState;
  let chain: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  let closed = false;

  function failedError(op: string, cause: Error): Error {
    return new Error(
      `raft storage: ${op} refused: an earlier write failed (${cause.message}); reopen the storage`,
      {
        cause,
      },
    );
  }
  function usable(op: string, writing: boolean): void {
    if (closed) throw new InvariantError(`${op}: storage is closed`);
    if (writing && failure !== undefined) throw failedError(op, failure);
  }

  function enqueue(op: string, work: () => Promise<void>): Promise<void> {
    const run = chain.then(async () => {
      if (failure !== undefined) throw failedError(op, failure);
      try {
        await work();
      } catch (e: unknown) {
        failure = e instanceof Error ? e : new Error(String(e));
        throw e;
      }
    });
    // The chain only orders jobs; each caller sees its own outcome through `run`.
    chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  function takeJob(): Job {
    const hs = state.hardState();
    const changed = hs.term !== written.term || hs.vote !== written.vote || hs.commit !== written.commit;
    if (changed) written = hs;
    return { segments: segments.takeJob(), hardState: changed ? hs : undefined };
  }

  async function handle(name: string): Promise<FileHandle> {
    const open_ = handles.get(name);
    if (open_ !== undefined) return open_;
    const fh = await open(join(root, name), constants.O_RDWR | constants.O_CREAT, 0o640);
    handles.set(name, fh);
    return fh;
  }
  async function closeHandle(name: string): Promise<void> {
    const fh = handles.get(name);
    handles.delete(name);
    await fh?.close();
  }
  async function unlink(name: string): Promise<void> {
    await closeHandle(name);
    await rm(join(root, name), { force: true });
  }

  async function runJob(job: Job): Promise<void> {
    const seg = job.segments;
    if (seg !== undefined) {
      // Newest first, each made durable, so a crash never leaves a hole in the run of segments.
      for (const name of seg.unlinks) {
        await unlink(name);
        await fsyncDir(root);
      }
      for (const w of seg.writes) {
        const fh = await handle(w.name);
        if (w.truncateTo !== undefined) {
          await fh.truncate(w.truncateTo);
          // The cut must be durable before new records land where old ones were: otherwise a crash could leave
          // new records followed by old valid ones, which recovery rightly reads as corruption (not a torn tail).
          await fh.datasync();
        }
        await writeAllAt(fh, w.bytes, w.position);
        await fh.datasync();
        if (w.create) await fsyncDir(root);
      }
      const active = seg.writes[seg.writes.length - 1]?.name;
      for (const name of [...handles.keys()]) if (name !== active) await closeHandle(name);
    }
    if (job.hardState !== undefined)
      await writeFileAtomic(root, HARD_STATE_FILE, encodeHardState(job.hardState));
  }

  async function writeSnapshot(s: Snapshot): Promise<void> {
    await writeFileAtomic(root, snapshotName(s.meta.index, s.meta.term), encodeSnapshot(s));
    const old = (await readdir(root))
      .map((name) => ({ name, id: parseSnapshotName(name) }))
      .filter((x): x is { name: string; id: { index: number; term: number } } => x.id !== undefined)
      .sort((a, b) => b.id.index - a.id.index || b.id.term - a.id.term)
      .slice(SNAPSHOTS_KEPT);
    // No directory fsync: an old snapshot reappearing after a crash is only a spare fallback.
    for (const { name } of old) await rm(join(root, name), { force: true });
  }

  const storage: FileStorage = {
    dir: root,
    warnings: recovered.warnings,
    hardState(): HardState {
      usable('hardState', false);
      return state.hardState();
    },
    snapshot(): Snapshot | undefined {
      usable('snapshot', false);
      return state.snapshot();
    },
    firstIndex(): number {
      usable('firstIndex', false);
      return state.firstIndex();
    },
    lastIndex(): number {
      usable('lastIndex', false);
      return state.lastIndex();
    },
    term(index: number): number {
      usable('term', false);
      return state.term(index);
    },
    entries(lo: number, hi: number, maxBytes?: number): Entry[] {
      usable('entries', false);
      return state.entries(lo, hi, maxBytes);
    },
    append(entries: Entry[]): void {
      usable('append', true);
      const { appended, cut } = state.append(entries);
      segments.append(appended, cut);
    },
    setHardState(hs: HardState): void {
      usable('setHardState', true);
      state.setHardState(hs);
    },
    async sync(): Promise<void> {
      usable('sync', true);
      const job = takeJob();
      return enqueue('sync', () => runJob(job));
    },
    async saveSnapshot(s: Snapshot, keep: number): Promise<void> {
      usable('saveSnapshot', true);
      const previous = state.snapshot();
      const newFirst = state.saveSnapshot(s, keep);
      const job = takeJob();
      const keepFrom = Math.min(newFirst, previous === undefined ? newFirst : previous.meta.index + 1);
      const removed = segments.compact(keepFrom);
      return enqueue('saveSnapshot', async () => {
        await runJob(job);
        await writeSnapshot(s);
        // Oldest first: whatever a crash leaves is still a contiguous run (recovery skips a leading gap).
        for (const name of removed) await unlink(name);
        if (removed.length > 0) await fsyncDir(root);
      });
    },
    async installSnapshot(s: Snapshot): Promise<void> {
      usable('installSnapshot', true);
      state.installSnapshot(s);
      const removed = segments.reset();
      const job = takeJob();
      return enqueue('installSnapshot', async () => {
        // Snapshot first: until the old segments are gone, recovery recognises them as superseded by it.
        await writeSnapshot(s);
        for (const name of removed) {
          await unlink(name);
          await fsyncDir(root);
        }
        await runJob(job);
      });
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await chain;
      for (const name of [...handles.keys()]) await closeHandle(name);
      await lock.release();
    },
  };
  return storage;
}
