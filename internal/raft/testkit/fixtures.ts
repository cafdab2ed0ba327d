/** Small builders shared by the storage tests. Test-only: never imported by production code. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Entry, Snapshot } from '../storage.js';

/** An entry whose data spells its position, e.g. `e7.2`, so mixed-up entries show in a diff. */
export function ent(index: number, term: number, kind: Entry['kind'] = 'normal'): Entry {
  return { index, term, kind, data: new TextEncoder().encode(`e${index}.${term}`) };
}

/** Entries lo..hi inclusive, all at `term`. */
export function ents(lo: number, hi: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) out.push(ent(i, term));
  return out;
}

/** A snapshot with recognisable conf and data. */
export function snap(index: number, term: number, data = `state@${index}`): Snapshot {
  const enc = new TextEncoder();
  return { meta: { index, term, conf: enc.encode(`voters=1,2,3@${index}`) }, data: enc.encode(data) };
}

/** A fresh directory under os.tmpdir(), removed after the test. */
export async function tempDir(t: TestContext, prefix = 'raft-storage-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
