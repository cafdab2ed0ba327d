/**
 * Reads a data directory back at open and repairs what a crash can legitimately leave behind: stray temp
 * files, a torn tail in the last segment, segments already covered by a snapshot, and a log superseded by an
 * installed snapshot. Anything else (damage inside acknowledged data, missing entries) throws
 * CorruptionError naming the file and offset, and the node refuses to start.
 */
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir } from './durable-file.js';
import { CorruptionError } from './errors.js';
import { parseSegmentName, scanSegment } from './segment-format.js';
import type { LoadedSegment } from './segment-set.js';
import { decodeHardState, decodeSnapshot, HARD_STATE_FILE, parseSnapshotName } from './state-format.js';
import type { Entry, HardState, Snapshot } from './storage.js';
import { emptyHardState } from './storage.js';

/** The durable state of a data directory. */
export interface Recovered {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  /** Index and term just before `entries` (see StorageStateInit). */
  prevIndex: number;
  prevTerm: number;
  entries: Entry[];
  /** Segments kept on disk, in index order (they may start before prevIndex + 1). */
  segments: LoadedSegment[];
  /** Repairs made and damage skipped, for the operator's log. */
  warnings: string[];
}

async function readOptional(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Newest snapshot that decodes; newer damaged ones are renamed `*.corrupt` with a warning. */
async function recoverSnapshot(
  dir: string,
  names: string[],
  warnings: string[],
): Promise<Snapshot | undefined> {
  const snaps = names
    .map((name) => ({ name, id: parseSnapshotName(name) }))
    .filter((s): s is { name: string; id: { index: number; term: number } } => s.id !== undefined)
    .sort((a, b) => b.id.index - a.id.index || b.id.term - a.id.term);
  const damaged: { name: string; err: CorruptionError }[] = [];
  for (const { name, id } of snaps) {
    const path = join(dir, name);
    try {
      const s = decodeSnapshot(await readFile(path), path);
      if (s.meta.index !== id.index || s.meta.term !== id.term) {
        throw new CorruptionError(
          path,
          6,
          `header says index ${s.meta.index} term ${s.meta.term}, unlike its name`,
        );
      }
      for (const d of damaged) {
        await rename(join(dir, d.name), join(dir, `${d.name}.corrupt`));
        warnings.push(
          `${d.err.message.replace(/; refusing to start$/, '')}; renamed to ${d.name}.corrupt, using ${name}`,
        );
      }
      return s;
    } catch (e: unknown) {
      if (!(e instanceof CorruptionError)) throw e;
      damaged.push({ name, err: e });
    }
  }
  if (damaged[0] !== undefined) throw damaged[0].err;
  return undefined;
}

/** Removes segments newest first, fsyncing the directory after each so a crash leaves a contiguous run. */
async function removeSegments(dir: string, names: string[]): Promise<void> {
  for (const name of [...names].reverse()) {
    await rm(join(dir, name), { force: true });
    await fsyncDir(dir);
  }
}

/** Reads `dir` (already locked) and returns its durable state, repairing torn tails and crash leftovers. */
export async function recoverDataDir(dir: string): Promise<Recovered> {
  const warnings: string[] = [];
  const names = (await readdir(dir)).sort();
  // Leftovers of atomic writes interrupted by a crash; the files they were replacing are intact.
  for (const name of names.filter((n) => n.endsWith('.tmp'))) await rm(join(dir, name), { force: true });

  const hsPath = join(dir, HARD_STATE_FILE);
  const hsBytes = await readOptional(hsPath);
  const hardState = hsBytes === undefined ? emptyHardState() : decodeHardState(hsBytes, hsPath);
  const snapshot = await recoverSnapshot(dir, names, warnings);
  const si = snapshot?.meta.index ?? 0;
  const st = snapshot?.meta.term ?? 0;

  const segNames = names.filter((n) => parseSegmentName(n) !== undefined);
  let kept: { name: string; seg: LoadedSegment }[] = [];
  let entries: Entry[] = [];
  const dropped: string[] = [];
  for (const [k, name] of segNames.entries()) {
    const path = join(dir, name);
    const first = parseSegmentName(name) as number;
    const expected = (kept[0]?.seg.first ?? first) + entries.length;
    if (first !== expected) {
      // A compaction interrupted by a crash may leave older segments behind a gap; the snapshot covers them.
      if (first <= si + 1 && first > expected) {
        dropped.push(...kept.map((s) => s.name));
        kept = [];
        entries = [];
      } else {
        throw new CorruptionError(
          path,
          0,
          `segment starts at index ${first}, but the log before it ends at ${expected - 1}`,
        );
      }
    }
    const scan = scanSegment(await readFile(path), path, first, k === segNames.length - 1);
    const last = entries[entries.length - 1];
    if (last !== undefined && scan.entries[0] !== undefined && scan.entries[0].term < last.term) {
      throw new CorruptionError(
        path,
        0,
        `first term ${scan.entries[0].term} is below ${last.term} at the end of the previous segment`,
      );
    }
    if (scan.torn !== undefined) {
      const fh = await open(path, 'r+');
      try {
        await fh.truncate(scan.goodBytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      warnings.push(
        `${path}: torn tail at byte offset ${scan.torn.offset} (${scan.torn.reason}); truncated to the last intact record`,
      );
    }
    kept.push({ name, seg: { first, offsets: scan.offsets, size: scan.goodBytes } });
    for (const e of scan.entries) entries.push(e);
  }
  await removeSegments(dir, dropped);

  const a = kept[0]?.seg.first ?? si + 1;
  const b = a + entries.length - 1;
  if (a > si + 1) {
    throw new CorruptionError(
      join(dir, kept[0]?.name ?? ''),
      0,
      `log starts at index ${a} but ${snapshot === undefined ? 'there is no snapshot' : `the snapshot ends at ${si}`}`,
    );
  }
  const superseded = b < si || (si >= a && (entries[si - a] as Entry).term !== st);
  if (superseded) {
    // InstallSnapshot replaced the log but a crash came before the old segments were removed.
    await removeSegments(
      dir,
      kept.map((s) => s.name),
    );
    if (kept.length > 0)
      warnings.push(`removed ${kept.length} segment(s) ending at ${b}, superseded by snapshot ${si}`);
    return { hardState, snapshot, prevIndex: si, prevTerm: st, entries: [], segments: [], warnings };
  }
  const segments = kept.map((s) => s.seg);
  if (a === 1 || a - 1 === si) {
    return {
      hardState,
      snapshot,
      prevIndex: a - 1,
      prevTerm: a - 1 === si ? st : 0,
      entries,
      segments,
      warnings,
    };
  }
  // Entries kept before the snapshot: the term before the first is gone, so the first stands in for it.
  const head = entries[0] as Entry;
  return {
    hardState,
    snapshot,
    prevIndex: head.index,
    prevTerm: head.term,
    entries: entries.slice(1),
    segments,
    warnings,
  };
}
