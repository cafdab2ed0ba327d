/** Helpers for the file storage tests. Test-only: never imported by production code. */
import { readdir } from 'node:fs/promises';
import type { TestContext } from 'node:test';
import type { Entry } from '../storage.js';
import { type FileStorage, type FileStorageOptions, openFileStorage } from '../storage-file.js';

/** Opens `dir` and closes it after the test (closing twice is harmless). */
export async function openIn(
  t: TestContext,
  dir: string,
  opts: FileStorageOptions = {},
): Promise<FileStorage> {
  const s = await openFileStorage(dir, opts);
  t.after(() => s.close());
  return s;
}

/** Segment file names in `dir`, sorted. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
}

/** Snapshot-related file names in `dir` (including `.corrupt` ones), sorted. */
export async function snapshotFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('snap-')).sort();
}

/** `index.term` of every entry in the log, for compact diffs. */
export function logOf(s: FileStorage): string[] {
  return s.entries(s.firstIndex(), s.lastIndex() + 1).map((e: Entry) => `${e.index}.${e.term}`);
}
