import assert from 'node:assert/strict';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { seededRand } from '../testkit/seeded-rand.js';
import { CorruptionError } from './errors.js';
import { segmentName } from './segment-format.js';
import { encodeSnapshot, HARD_STATE_FILE, snapshotName } from './state-format.js';
import { openFileStorage } from './storage-file.js';
import { logOf, openIn, segmentFiles } from './testkit/file-helpers.js';
import { ent, ents, snap, tempDir } from './testkit/fixtures.js';

// Entries 1..9 at a one-digit term are 29-byte records; with segmentBytes 64 the segments hold 1-3, 4-6, 7-9.
const REC = 29;
const SMALL = { segmentBytes: 64 };

/** A directory holding entries 1..9 (term 1) and a hard state, synced and closed. */
async function writtenDir(t: TestContext): Promise<string> {
  const dir = await tempDir(t);
  const s = await openFileStorage(dir, SMALL);
  s.append(ents(1, 9, 1));
  s.setHardState({ term: 1, vote: 'n1', commit: 9 });
  await s.sync();
  await s.close();
  return dir;
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] as number) ^ 0x40;
  await writeFile(path, bytes);
}

function corruptionAt(file: string, offset: number, reason: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof CorruptionError, `expected CorruptionError, got ${String(e)}`);
    assert.deepEqual(
      { file: e.file, offset: e.offset, code: e.code },
      { file, offset, code: 'RAFT_CORRUPTION' },
    );
    assert.match(e.message, reason);
    return true;
  };
}

describe('recovery: torn tails are repaired', () => {
  const tails: [string, (seg: string) => Promise<void>, RegExp][] = [
    [
      'cut mid-record',
      (seg) => readFile(seg).then((b) => writeFile(seg, b.subarray(0, 2 * REC + 11))),
      /runs past the end/,
    ],
    [
      'cut mid-header',
      (seg) => readFile(seg).then((b) => writeFile(seg, b.subarray(0, 2 * REC + 5))),
      /incomplete record header/,
    ],
    ['random garbage appended', (seg) => appendFile(seg, randomBytes(7, 300)), /torn tail at byte offset 87/],
    ['zeros appended', (seg) => appendFile(seg, Buffer.alloc(4096)), /record length 0 is below the minimum/],
  ];
  for (const [name, damage, warning] of tails) {
    it(name, async (t) => {
      const dir = await writtenDir(t);
      await damage(join(dir, segmentName(7)));
      const s = await openIn(t, dir, SMALL);
      assert.match(s.warnings.join('\n'), warning);
      const last = s.lastIndex();
      assert.ok(last === 8 || last === 9, `lastIndex ${last}`);
      s.append([ent(last + 1, 2)]);
      await s.sync();
      await s.close();
      const again = await openIn(t, dir, SMALL);
      assert.deepEqual(again.warnings, [], 'the repair was durable');
      assert.deepEqual(logOf(again).slice(-1), [`${last + 1}.2`]);
    });
  }
});

function randomBytes(seed: number, n: number): Buffer {
  const rand = seededRand(seed);
  return Buffer.from(Array.from({ length: n }, () => rand.int(256)));
}

describe('recovery: corruption refuses to open', () => {
  it('a flipped payload byte with valid records after it', async (t) => {
    const dir = await writtenDir(t);
    const seg = join(dir, segmentName(7));
    await flipByte(seg, REC + 20); // inside entry 8's payload
    await assert.rejects(
      openFileStorage(dir, SMALL),
      corruptionAt(seg, REC, /CRC mismatch.*valid record for index 9 follows at offset 58/),
    );
  });

  it('a flipped length byte that makes the record run past the end', async (t) => {
    const dir = await writtenDir(t);
    const last = join(dir, segmentName(7));
    await flipByte(last, 1); // entry 7's length becomes 4 MiB+
    await assert.rejects(
      openFileStorage(dir, SMALL),
      corruptionAt(last, 0, /runs past the end.*index 8 follows at offset 29/),
    );
  });

  it('damage in a segment that is not the last', async (t) => {
    const dir = await writtenDir(t);
    const seg = join(dir, segmentName(4));
    await writeFile(seg, (await readFile(seg)).subarray(0, 2 * REC + 3));
    await assert.rejects(openFileStorage(dir, SMALL), corruptionAt(seg, 2 * REC, /not the last/));
  });

  it('a missing segment in the middle', async (t) => {
    const dir = await writtenDir(t);
    await writeFile(join(dir, segmentName(4)), Buffer.alloc(0));
    await assert.rejects(
      openFileStorage(dir, SMALL),
      corruptionAt(join(dir, segmentName(7)), 0, /starts at index 7, but the log before it ends at 3/),
    );
  });

  it('a damaged hard state', async (t) => {
    const dir = await writtenDir(t);
    const hs = join(dir, HARD_STATE_FILE);
    await flipByte(hs, 10);
    await assert.rejects(
      openFileStorage(dir, SMALL),
      corruptionAt(hs, 26, /hardstate is corrupt .*CRC mismatch.*refusing to start/),
    );
    await assert.rejects(openFileStorage(dir, SMALL), CorruptionError, 'the failed open released its lock');
  });

  it('the only snapshot damaged', async (t) => {
    const dir = await writtenDir(t);
    const path = join(dir, snapshotName(2, 1));
    const bytes = encodeSnapshot(snap(2, 1));
    bytes[8] = 0xff;
    await writeFile(path, bytes);
    await assert.rejects(openFileStorage(dir, SMALL), corruptionAt(path, bytes.length - 4, /CRC mismatch/));
  });

  it('a log starting after the snapshot', async (t) => {
    const dir = await writtenDir(t);
    await writeFile(join(dir, segmentName(1)), Buffer.alloc(0)); // entries 1-3 gone, no snapshot
    await assert.rejects(openFileStorage(dir, SMALL), (e: unknown) => e instanceof CorruptionError);
  });
});

describe('recovery: crash leftovers', () => {
  it('an InstallSnapshot interrupted before the old segments were removed', async (t) => {
    const dir = await writtenDir(t);
    await writeFile(join(dir, snapshotName(20, 3)), encodeSnapshot(snap(20, 3)));
    const s = await openIn(t, dir, SMALL);
    assert.deepEqual([s.firstIndex(), s.lastIndex()], [21, 20]);
    assert.match(s.warnings.join('\n'), /removed 3 segment\(s\) ending at 9, superseded by snapshot 20/);
    assert.deepEqual(await segmentFiles(dir), []);
  });

  it('a snapshot whose last entry matches the log keeps the entries after it', async (t) => {
    const dir = await writtenDir(t);
    await writeFile(join(dir, snapshotName(5, 1)), encodeSnapshot(snap(5, 1)));
    await writeFile(join(dir, `${snapshotName(6, 1)}.tmp`), 'half-written');
    const s = await openIn(t, dir, SMALL);
    assert.deepEqual([s.snapshot()?.meta.index, s.lastIndex(), s.warnings], [5, 9, []]);
    assert.equal(s.term(9), 1);
  });

  it('a compaction interrupted with a leading gap', async (t) => {
    const dir = await writtenDir(t);
    // As if the unlink of log-4 reached the disk but the one of log-1 did not.
    await writeFile(join(dir, snapshotName(7, 1)), encodeSnapshot(snap(7, 1)));
    await rm(join(dir, segmentName(4)));
    const s = await openIn(t, dir, SMALL);
    assert.deepEqual(await segmentFiles(dir), [segmentName(7)]);
    assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(7)], [8, 9, 1]);
    assert.deepEqual(s.hardState(), { term: 1, vote: 'n1', commit: 9 });
  });
});
