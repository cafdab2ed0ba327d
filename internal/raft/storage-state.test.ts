import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactedError } from './errors.js';
import { emptyHardState } from './storage.js';
import { createStorageState } from './storage-state.js';
import { ent, ents, snap } from './testkit/fixtures.js';

// The Storage contract itself is covered by the conformance suite through both storages.
describe('createStorageState', () => {
  it('clones independently', () => {
    const a = createStorageState({
      hardState: emptyHardState(),
      snapshot: undefined,
      prevIndex: 0,
      prevTerm: 0,
      entries: [],
    });
    a.append(ents(1, 3, 1));
    const b = a.clone();
    a.append([ent(2, 2)]);
    a.setHardState({ term: 2, vote: 'x', commit: 1 });
    assert.deepEqual(b.entries(1, 4), ents(1, 3, 1));
    assert.deepEqual(b.hardState(), emptyHardState());
  });

  it('starts from a recovered log whose first entry stands in for the compacted ones', () => {
    // As recovery builds it when segments reach back before the snapshot: entry 4 only supplies term(4).
    const s = createStorageState({
      hardState: emptyHardState(),
      snapshot: snap(6, 2),
      prevIndex: 4,
      prevTerm: 1,
      entries: [ent(5, 2), ent(6, 2), ent(7, 2)],
    });
    assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(4), s.term(6)], [5, 7, 1, 2]);
    assert.throws(() => s.term(3), CompactedError);
    assert.equal(s.saveSnapshot(snap(7, 2), 1), 7);
  });

  it('reports the replaced suffix so a disk can truncate it', () => {
    const s = createStorageState({
      hardState: emptyHardState(),
      snapshot: undefined,
      prevIndex: 0,
      prevTerm: 0,
      entries: [],
    });
    assert.deepEqual(s.append(ents(1, 4, 1)).cut, undefined);
    assert.deepEqual(s.append([ent(3, 2)]).cut, 3);
  });
});
