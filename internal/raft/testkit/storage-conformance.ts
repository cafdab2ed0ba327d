/**
 * The Storage contract as one suite, run against every implementation (storage-memory.test.ts,
 * storage-file.test.ts). Test-only: never imported by production code.
 */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { CompactedError, InvariantError, UnavailableError } from '../errors.js';
import type { Entry, Storage } from '../storage.js';
import { ent, ents, snap } from './fixtures.js';

/** Opens a fresh, empty storage for one test and registers its cleanup on `t`. */
export type StorageFactory = (t: TestContext) => Promise<Storage>;

function indexes(es: Entry[]): string[] {
  return es.map((e) => `${e.index}.${e.term}`);
}

/** Registers the conformance suite for `name` under a describe block. */
export function describeStorageConformance(name: string, open: StorageFactory): void {
  describe(`${name}: Storage conformance`, () => {
    it('starts empty', async (t) => {
      const s = await open(t);
      assert.deepEqual(
        {
          first: s.firstIndex(),
          last: s.lastIndex(),
          term0: s.term(0),
          hs: s.hardState(),
          snap: s.snapshot(),
        },
        { first: 1, last: 0, term0: 0, hs: { term: 0, vote: '', commit: 0 }, snap: undefined },
      );
      assert.deepEqual(s.entries(1, 1), []);
      assert.throws(() => s.term(1), UnavailableError);
    });

    it('appends and reads back entries and terms', async (t) => {
      const s = await open(t);
      s.append(ents(1, 3, 1));
      s.append([ent(4, 2, 'conf'), ent(5, 2)]);
      await s.sync();
      assert.equal(s.lastIndex(), 5);
      assert.deepEqual(s.entries(1, 6), [...ents(1, 3, 1), ent(4, 2, 'conf'), ent(5, 2)]);
      assert.deepEqual([1, 3, 4, 5].map(s.term), [1, 1, 2, 2]);
      assert.deepEqual(indexes(s.entries(2, 4)), ['2.1', '3.1']);
      assert.throws(
        () => s.term(6),
        (e: unknown) => e instanceof UnavailableError && e.code === 'RAFT_UNAVAILABLE',
      );
    });

    it('entries() honours maxBytes but returns at least one entry', async (t) => {
      const s = await open(t);
      s.append(ents(1, 5, 1)); // 4 data bytes each ("e1.1")
      assert.equal(s.entries(1, 6, 8).length, 2, 'two 4-byte entries fit 8 bytes');
      assert.equal(s.entries(1, 6, 9).length, 2, 'a third would exceed 9 bytes');
      assert.equal(s.entries(1, 6, 0).length, 1, 'at least one entry');
      assert.equal(s.entries(1, 6).length, 5, 'no limit');
      assert.throws(() => s.entries(1, 7), UnavailableError);
      assert.throws(() => s.entries(4, 3), InvariantError);
    });

    it('truncates the conflicting suffix on append', async (t) => {
      const s = await open(t);
      s.append(ents(1, 5, 1));
      await s.sync();
      s.append([ent(3, 2), ent(4, 2)]);
      assert.deepEqual(indexes(s.entries(1, s.lastIndex() + 1)), ['1.1', '2.1', '3.2', '4.2']);
      s.append([ent(5, 3)]);
      s.append([ent(2, 3)]);
      await s.sync();
      assert.deepEqual(indexes(s.entries(1, s.lastIndex() + 1)), ['1.1', '2.3']);
    });

    it('rejects caller bugs with InvariantError naming the numbers', async (t) => {
      const s = await open(t);
      s.append(ents(1, 5, 2));
      const cases: [string, () => void, RegExp][] = [
        ['gap after lastIndex', () => s.append([ent(7, 2)]), /entry 7 leaves a gap after lastIndex 5/],
        ['batch not contiguous', () => s.append([ent(6, 2), ent(8, 2)]), /entry 8 does not follow 6/],
        ['term below predecessor', () => s.append([ent(6, 1)]), /entry 6 term 1 is below term 2 of entry 5/],
        [
          'term falls in batch',
          () => s.append([ent(6, 3), ent(7, 2)]),
          /entry 7 term 2 is below entry 6 term 3/,
        ],
        ['index 0', () => s.append([ent(0, 1)]), /index 0 is not a safe integer >= 1/],
      ];
      for (const [what, fn, msg] of cases) {
        assert.throws(
          fn,
          (e: unknown) => e instanceof InvariantError && e.code === 'RAFT_INVARIANT' && msg.test(e.message),
          what,
        );
      }
      assert.equal(s.lastIndex(), 5, 'a rejected append changes nothing');
    });

    it('round-trips the hard state and checks its transitions', async (t) => {
      const s = await open(t);
      s.setHardState({ term: 3, vote: 'node-b', commit: 0 });
      s.setHardState({ term: 3, vote: 'node-b', commit: 2 });
      await s.sync();
      assert.deepEqual(s.hardState(), { term: 3, vote: 'node-b', commit: 2 });
      assert.throws(() => s.setHardState({ term: 2, vote: '', commit: 2 }), /term 2 is below 3/);
      assert.throws(
        () => s.setHardState({ term: 3, vote: 'node-c', commit: 2 }),
        /vote changed .* within term 3/,
      );
      assert.throws(() => s.setHardState({ term: 3, vote: 'node-b', commit: 1 }), /commit 1 is below 2/);
      s.setHardState({ term: 4, vote: '', commit: 2 });
      assert.deepEqual(s.hardState(), { term: 4, vote: '', commit: 2 });
    });

    it('saves a snapshot and compacts, keeping trailing entries', async (t) => {
      const s = await open(t);
      s.append([...ents(1, 6, 1), ...ents(7, 10, 2)]);
      await s.saveSnapshot(snap(8, 2), 2);
      assert.deepEqual(s.snapshot(), snap(8, 2));
      assert.equal(s.firstIndex(), 7);
      assert.equal(s.lastIndex(), 10);
      assert.equal(s.term(6), 1, 'term(firstIndex - 1) survives compaction');
      assert.equal(s.term(8), 2, 'term(snapshot.index)');
      assert.throws(
        () => s.term(5),
        (e: unknown) => e instanceof CompactedError && e.code === 'RAFT_COMPACTED',
      );
      assert.throws(() => s.entries(6, 8), CompactedError);
      assert.deepEqual(indexes(s.entries(7, 11)), ['7.2', '8.2', '9.2', '10.2']);

      await s.saveSnapshot(snap(10, 2), 0);
      assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(10)], [11, 10, 2]);
      s.append([ent(11, 3)]);
      assert.equal(s.term(11), 3);
    });

    it('keeps the log when keep reaches past its start, and skips re-appended compacted entries', async (t) => {
      const s = await open(t);
      s.append(ents(1, 10, 1));
      await s.saveSnapshot(snap(4, 1), 100);
      assert.equal(s.firstIndex(), 1);
      await s.saveSnapshot(snap(8, 1), 0);
      s.append([ent(7, 1), ent(8, 1), ent(9, 2)]);
      assert.deepEqual(indexes(s.entries(9, s.lastIndex() + 1)), ['9.2']);
    });

    it('rejects inconsistent snapshots', async (t) => {
      const s = await open(t);
      s.append(ents(1, 5, 1));
      await assert.rejects(s.saveSnapshot(snap(6, 1), 0), /index 6 is beyond lastIndex 5/);
      await assert.rejects(s.saveSnapshot(snap(3, 2), 0), /term 2 at index 3, log has 1/);
      await s.saveSnapshot(snap(3, 1), 0);
      await assert.rejects(s.saveSnapshot(snap(2, 1), 0), /snapshot index 2 is not above the current 3/);
      await assert.rejects(s.installSnapshot(snap(3, 1)), /snapshot index 3 is not above the current 3/);
      assert.equal(s.firstIndex(), 4);
    });

    it('installs a snapshot from a leader, emptying the log', async (t) => {
      const s = await open(t);
      s.append(ents(1, 5, 1));
      await s.sync();
      s.append([ent(6, 1)]);
      await s.installSnapshot(snap(20, 3));
      assert.deepEqual(
        { first: s.firstIndex(), last: s.lastIndex(), term20: s.term(20), snap: s.snapshot() },
        { first: 21, last: 20, term20: 3, snap: snap(20, 3) },
      );
      assert.deepEqual(s.entries(21, 21), []);
      assert.throws(() => s.term(19), CompactedError);
      assert.throws(() => s.append([ent(22, 3)]), /entry 22 leaves a gap after lastIndex 20/);
      s.append([ent(21, 3)]);
      await s.sync();
      assert.deepEqual(indexes(s.entries(21, 22)), ['21.3']);
    });

    it('serialises concurrent syncs', async (t) => {
      const s = await open(t);
      const done: Promise<void>[] = [];
      for (let i = 1; i <= 20; i++) {
        s.append([ent(i, 1)]);
        s.setHardState({ term: 1, vote: '', commit: i - 1 });
        done.push(s.sync());
      }
      await Promise.all(done);
      assert.deepEqual([s.lastIndex(), s.hardState().commit], [20, 19]);
    });

    it('refuses use after close', async (t) => {
      const s = await open(t);
      await s.close();
      assert.throws(() => s.lastIndex(), /lastIndex: storage is closed/);
      assert.throws(() => s.append([ent(1, 1)]), InvariantError);
      await assert.rejects(s.sync(), InvariantError);
    });
  });
}
