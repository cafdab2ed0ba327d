import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvariantError } from './errors.js';
import { createMemoryStorage } from './storage-memory.js';
import { ent, ents, snap } from './testkit/fixtures.js';
import { describeStorageConformance } from './testkit/storage-conformance.js';

describeStorageConformance('memory', async () => createMemoryStorage());
describeStorageConformance('memory (crashable)', async () => createMemoryStorage({ crashable: true }));

describe('createMemoryStorage({ crashable: true }).crash', () => {
  it('drops appends and hard state written since the last sync', async () => {
    const s = createMemoryStorage({ crashable: true });
    s.append(ents(1, 3, 1));
    s.setHardState({ term: 1, vote: 'a', commit: 2 });
    await s.sync();
    s.append([ent(3, 2), ent(4, 2)]);
    s.setHardState({ term: 2, vote: 'b', commit: 3 });
    s.crash();
    assert.deepEqual(s.entries(1, s.lastIndex() + 1), ents(1, 3, 1), 'the truncated suffix comes back');
    assert.deepEqual(s.hardState(), { term: 1, vote: 'a', commit: 2 });
  });

  it('keeps snapshots, which are durable when their promise resolves', async () => {
    const s = createMemoryStorage({ crashable: true });
    s.append(ents(1, 6, 1));
    await s.saveSnapshot(snap(4, 1), 1);
    s.append([ent(7, 1)]);
    s.crash();
    assert.deepEqual(
      [s.firstIndex(), s.lastIndex(), s.snapshot()?.meta.index],
      [4, 6, 4],
      'saveSnapshot syncs first',
    );
    s.setHardState({ term: 2, vote: '', commit: 4 });
    await s.installSnapshot(snap(9, 2));
    s.crash();
    assert.deepEqual([s.firstIndex(), s.lastIndex(), s.hardState().term], [10, 9, 2]);
  });

  it('restarts a closed storage', async () => {
    const s = createMemoryStorage({ crashable: true });
    s.append([ent(1, 1)]);
    await s.sync();
    await s.close();
    assert.throws(() => s.lastIndex(), InvariantError);
    s.crash();
    assert.equal(s.lastIndex(), 1);
  });

  it('is absent without the option', () => {
    assert.equal('crash' in createMemoryStorage(), false);
  });
});
