import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { segmentName } from './segment-format.js';
import { snapshotName } from './state-format.js';
import { openFileStorage } from './storage-file.js';
import { logOf, openIn, segmentFiles, snapshotFiles } from './testkit/file-helpers.js';
import { ent, ents, snap, tempDir } from './testkit/fixtures.js';
import { describeStorageConformance } from './testkit/storage-conformance.js';

// Entries 1..9 at a one-digit term have 4 data bytes ("e7.1"), so 29-byte records: with segmentBytes 64 a
// segment rolls over after 3 records and holds 1-3, 4-6, 7-9.
const SMALL = { segmentBytes: 64 };

describeStorageConformance('file', async (t) => openIn(t, await tempDir(t)));
describeStorageConformance('file (64-byte segments)', async (t) => openIn(t, await tempDir(t), SMALL));

describe('openFileStorage: restart', () => {
  it('returns exactly what was synced; unsynced appends, truncations and hard state are lost', async (t) => {
    const dir = await tempDir(t);
    const a = await openIn(t, dir, SMALL);
    a.append(ents(1, 8, 1));
    a.setHardState({ term: 1, vote: 'a', commit: 5 });
    await a.sync();
    a.append([ent(4, 2), ent(5, 2)]);
    a.setHardState({ term: 2, vote: 'b', commit: 5 });
    await a.close();

    const b = await openIn(t, dir, SMALL);
    assert.deepEqual(b.entries(1, 9), ents(1, 8, 1));
    assert.deepEqual(b.hardState(), { term: 1, vote: 'a', commit: 5 });
    assert.deepEqual(b.warnings, []);
  });

  it('rotates segments and truncates across them, recreating a removed segment name', async (t) => {
    const dir = await tempDir(t);
    const a = await openIn(t, dir, SMALL);
    a.append(ents(1, 9, 1));
    await a.sync();
    assert.deepEqual(await segmentFiles(dir), [1, 4, 7].map(segmentName));
    // Cut inside log-4 (dropping log-7), then grow back into a new log-7, all in one sync.
    a.append(ents(5, 9, 2));
    await a.sync();
    a.append([ent(4, 3)]); // cut at the first record of log-4: the file is emptied and reused
    await a.sync();
    await a.close();

    const b = await openIn(t, dir, SMALL);
    assert.deepEqual(logOf(b), ['1.1', '2.1', '3.1', '4.3']);
    assert.deepEqual(await segmentFiles(dir), [1, 4].map(segmentName));
    b.append(ents(5, 9, 3));
    await b.sync();
    await b.close();
    const c = await openIn(t, dir, SMALL);
    assert.deepEqual(logOf(c).slice(3), ['4.3', '5.3', '6.3', '7.3', '8.3', '9.3']);
  });

  it('never corrupts: a sync cut short at any byte opens as a prefix of the log', async (t) => {
    const dir = await tempDir(t);
    const a = await openIn(t, dir);
    a.append(ents(1, 3, 1));
    await a.sync();
    await a.close();
    const seg = join(dir, segmentName(1));
    const full = await readFile(seg);
    for (let cut = 0; cut <= full.length; cut++) {
      await writeFile(seg, full.subarray(0, cut));
      const s = await openFileStorage(dir);
      const complete = Math.floor(cut / 29);
      assert.equal(s.lastIndex(), complete, `file cut at byte ${cut}`);
      assert.equal(
        s.warnings.length,
        cut % 29 === 0 ? 0 : 1,
        `warnings at byte ${cut}: ${s.warnings.join()}`,
      );
      await s.close();
    }
  });
});

describe('openFileStorage: snapshots', () => {
  it('keeps the newest two snapshots and reopens from the newest', async (t) => {
    const dir = await tempDir(t);
    const a = await openIn(t, dir, SMALL);
    a.append(ents(1, 9, 1));
    for (const i of [2, 5, 8]) await a.saveSnapshot(snap(i, 1), 0);
    assert.deepEqual(await snapshotFiles(dir), [snapshotName(5, 1), snapshotName(8, 1)]);
    // Segments are deleted whole and only when the previous snapshot (5) also covers them.
    assert.deepEqual(await segmentFiles(dir), [4, 7].map(segmentName));
    await a.close();

    const b = await openIn(t, dir, SMALL);
    assert.deepEqual(b.snapshot(), snap(8, 1));
    assert.equal(b.term(8), 1);
    assert.deepEqual(logOf(b).slice(-1), ['9.1']);
  });

  it('falls back to the older snapshot when the newest is damaged', async (t) => {
    const dir = await tempDir(t);
    const a = await openIn(t, dir, SMALL);
    a.append(ents(1, 9, 1));
    await a.saveSnapshot(snap(3, 1), 0);
    await a.saveSnapshot(snap(8, 1), 0);
    await a.close();
    const newest = join(dir, snapshotName(8, 1));
    const bytes = await readFile(newest);
    bytes[bytes.length - 6] = (bytes[bytes.length - 6] as number) ^ 0xff;
    await writeFile(newest, bytes);

    const b = await openIn(t, dir, SMALL);
    assert.deepEqual(b.snapshot(), snap(3, 1));
    assert.deepEqual(logOf(b), ['4.1', '5.1', '6.1', '7.1', '8.1', '9.1']);
    assert.match(
      b.warnings.join('\n'),
      /snap-0+8-0+1\.snap is corrupt at byte offset \d+: CRC mismatch.*renamed/,
    );
    assert.deepEqual(await snapshotFiles(dir), [snapshotName(3, 1), `${snapshotName(8, 1)}.corrupt`]);
  });

  it('survives installSnapshot across a restart, with the old segments gone', async (t) => {
    const dir = await tempDir(t);
    const a = await openIn(t, dir, SMALL);
    a.append(ents(1, 9, 1));
    await a.sync();
    a.setHardState({ term: 3, vote: '', commit: 0 });
    await a.installSnapshot(snap(20, 3));
    assert.deepEqual(await segmentFiles(dir), []);
    a.append([ent(21, 3)]);
    await a.sync();
    await a.close();

    const b = await openIn(t, dir, SMALL);
    assert.deepEqual([b.firstIndex(), b.lastIndex(), b.term(20), b.hardState().term], [21, 21, 3, 3]);
    assert.deepEqual(await segmentFiles(dir), [segmentName(21)]);
  });
});

describe('openFileStorage: failures', () => {
  it('fails for good once a write fails', async (t) => {
    const dir = await tempDir(t);
    const s = await openIn(t, dir);
    s.append([ent(1, 1)]);
    await s.sync();
    await rm(dir, { recursive: true, force: true });
    s.setHardState({ term: 1, vote: '', commit: 1 });
    await assert.rejects(s.sync(), /ENOENT/);
    assert.throws(() => s.append([ent(2, 1)]), /append refused: an earlier write failed/);
    await assert.rejects(s.sync(), /sync refused: an earlier write failed/);
  });

  it('validates segmentBytes', async (t) => {
    const dir = await tempDir(t);
    await assert.rejects(
      openFileStorage(dir, { segmentBytes: 0 }),
      /segmentBytes 0 is not an integer in \[1, /,
    );
  });
});
