import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvariantError } from '../errors.js';
import type { Entry } from '../storage.js';
import { createMemoryStorage } from '../storage-memory.js';
import { describeEntry } from './message.js';
import { createRaftLog, type RaftLog } from './raft-log.js';

const e = (index: number, term: number, data = `e${index}`): Entry => ({
  index,
  term,
  kind: 'normal',
  data: new TextEncoder().encode(data),
});
const ids = (es: Entry[]): string[] => es.map((x) => `${x.index}/${x.term}`);

/** Storage holding entries with the given terms from index 1 (stable), and a log over it. */
function logWith(terms: number[], committed = 0): RaftLog {
  const s = createMemoryStorage();
  s.append(terms.map((t, i) => e(i + 1, t)));
  return createRaftLog(s, committed, 0);
}

describe('raft log', () => {
  it('terms come from storage, then the unstable tail', () => {
    const log = logWith([1, 1, 2]);
    log.append([e(4, 3), e(5, 3)]);
    assert.deepEqual(
      [0, 1, 3, 4, 5, 6].map((i) => log.term(i)),
      [0, 1, 2, 3, 3, undefined],
    );
    assert.deepEqual([log.firstIndex(), log.lastIndex(), log.lastTerm()], [1, 5, 3]);
  });

  it('a pending truncation hides the storage suffix it replaces', () => {
    const log = logWith([1, 1, 1, 1]);
    log.append([e(3, 2)]);
    assert.equal(log.lastIndex(), 3);
    assert.deepEqual([log.term(2), log.term(3), log.term(4)], [1, 2, undefined]);
    assert.deepEqual(ids(log.slice(1, 4)), ['1/1', '2/1', '3/2']);
  });

  describe('maybeAppend', () => {
    const cases: {
      name: string;
      prev: [number, number];
      ents: Entry[];
      commit: number;
      want: string;
    }[] = [
      { name: 'mismatched prev term', prev: [3, 2], ents: [e(4, 2)], commit: 3, want: 'reject' },
      { name: 'prev beyond last', prev: [5, 1], ents: [], commit: 3, want: 'reject' },
      {
        name: 'append new entries',
        prev: [3, 1],
        ents: [e(4, 2), e(5, 2)],
        commit: 4,
        want: 'last=5 appended=4/2,5/2 commit=4 log=1/1,2/1,3/1,4/2,5/2',
      },
      {
        name: 'duplicate entries append nothing',
        prev: [1, 1],
        ents: [e(2, 1), e(3, 1)],
        commit: 3,
        want: 'last=3 appended= commit=3 log=1/1,2/1,3/1',
      },
      {
        name: 'conflict truncates the suffix',
        prev: [1, 1],
        ents: [e(2, 2)],
        commit: 9,
        want: 'last=2 appended=2/2 commit=2 log=1/1,2/2',
      },
      {
        name: 'commit capped at last new index',
        prev: [1, 1],
        ents: [],
        commit: 3,
        want: 'last=1 appended= commit=1 log=1/1,2/1,3/1',
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const log = logWith([1, 1, 1]);
        const res = log.maybeAppend(c.prev[0], c.prev[1], c.commit, c.ents);
        const got =
          res === undefined
            ? 'reject'
            : `last=${res.lastNew} appended=${ids(res.appended)} commit=${log.committed()} log=${ids(log.slice(1, log.lastIndex() + 1))}`;
        assert.equal(got, c.want);
      });
    }
    it('refuses to truncate committed entries', () => {
      const log = logWith([1, 1, 1], 2);
      assert.throws(() => log.maybeAppend(1, 1, 2, [e(2, 2)]), InvariantError);
    });
  });

  describe('findConflictByTerm', () => {
    // Log terms by index: 1:1 2:1 3:2 4:2 5:4.
    const cases: [number, number, { index: number; term: number }][] = [
      [5, 4, { index: 5, term: 4 }],
      [5, 3, { index: 4, term: 2 }],
      [5, 1, { index: 2, term: 1 }],
      [3, 0, { index: 0, term: 0 }],
    ];
    for (const [index, term, want] of cases) {
      it(`(${index}, ${term})`, () =>
        assert.deepEqual(logWith([1, 1, 2, 2, 4]).findConflictByTerm(index, term), want));
    }
    it('returns a compacted index with term 0 (possible match)', async () => {
      const s = createMemoryStorage();
      s.append([e(1, 1), e(2, 2), e(3, 3)]);
      await s.saveSnapshot(
        { meta: { index: 2, term: 2, conf: new Uint8Array() }, data: new Uint8Array() },
        0,
      );
      const log = createRaftLog(s, 2, 2);
      assert.deepEqual(log.findConflictByTerm(3, 1), { index: 1, term: 0 });
    });
  });

  it('slices across storage and unstable within maxBytes, at least one entry', () => {
    const log = logWith([1, 1]);
    log.append([e(3, 1, 'abcd'), e(4, 1, 'efgh')]);
    assert.deepEqual(ids(log.slice(1, 5)), ['1/1', '2/1', '3/1', '4/1']);
    assert.deepEqual(ids(log.slice(1, 5, 4)), ['1/1', '2/1']);
    assert.deepEqual(ids(log.slice(3, 5, 4)), ['3/1']);
    assert.deepEqual(ids(log.slice(3, 5, 0)), ['3/1']);
    assert.throws(() => log.slice(0, 2), /out of bounds \[1, 5\)/);
  });

  it('commits only entries of the given term', () => {
    const log = logWith([1, 2, 2]);
    assert.equal(log.maybeCommit(3, 1), false);
    assert.equal(log.maybeCommit(3, 2), true);
    assert.equal(log.committed(), 3);
    assert.throws(() => log.commitTo(4), /commit 4 is beyond lastIndex 3/);
  });

  it('hands out committed entries once; none while a snapshot is pending', () => {
    const log = logWith([1, 1, 1], 2);
    assert.deepEqual(ids(log.nextCommittedEnts()), ['1/1', '2/1']);
    log.appliedTo(2);
    assert.equal(log.hasNextCommittedEnts(), false);
    log.restore({ meta: { index: 9, term: 3, conf: new Uint8Array() }, data: new Uint8Array() });
    assert.deepEqual([log.committed(), log.firstIndex(), log.lastIndex(), log.term(9)], [9, 10, 9, 3]);
    assert.equal(log.hasNextCommittedEnts(), false);
    log.stableSnapTo(9);
    assert.throws(() => log.appliedTo(1), /applied 1 is outside \[2, committed 9\]/);
  });

  it('stableTo ignores entries replaced meanwhile', () => {
    const log = logWith([]);
    log.append([e(1, 1), e(2, 1)]);
    log.stableTo(2, 2);
    assert.equal(log.unstable.entries.length, 2, 'different term: not persisted');
    log.stableTo(1, 1);
    assert.deepEqual([log.unstable.offset, ids(log.unstable.entries)], [2, ['2/1']]);
  });

  it('renders entries for scenario output', () => {
    assert.equal(describeEntry(e(3, 2, 'x')), '3/2 "x"');
  });
});
