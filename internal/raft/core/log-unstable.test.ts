import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../storage.js';
import {
  createUnstable,
  stableTo,
  truncateAndAppend,
  unstableLastIndex,
  unstableTerm,
} from './log-unstable.js';

const e = (index: number, term: number): Entry => ({ index, term, kind: 'normal', data: new Uint8Array() });
const ids = (es: Entry[]): string[] => es.map((x) => `${x.index}/${x.term}`);

describe('truncateAndAppend', () => {
  const cases: { name: string; ents: Entry[]; offset: number; want: string[] }[] = [
    { name: 'appends after the tail', ents: [e(8, 2)], offset: 5, want: ['5/1', '6/1', '7/1', '8/2'] },
    { name: 'replaces from the middle', ents: [e(6, 2)], offset: 5, want: ['5/1', '6/2'] },
    { name: 'replaces everything from offset', ents: [e(5, 2)], offset: 5, want: ['5/2'] },
    {
      name: 'starts before offset (storage suffix replaced)',
      ents: [e(3, 2), e(4, 2)],
      offset: 3,
      want: ['3/2', '4/2'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const u = createUnstable(4);
      truncateAndAppend(u, [e(5, 1), e(6, 1), e(7, 1)]);
      truncateAndAppend(u, c.ents);
      assert.deepEqual([u.offset, ids(u.entries)], [c.offset, c.want]);
    });
  }
});

describe('unstable', () => {
  it('knows terms of its entries and the pending snapshot', () => {
    const u = createUnstable(0);
    assert.equal(unstableLastIndex(u), undefined);
    u.snapshot = { meta: { index: 4, term: 2, conf: new Uint8Array() }, data: new Uint8Array() };
    u.offset = 5;
    truncateAndAppend(u, [e(5, 2)]);
    assert.deepEqual([unstableTerm(u, 4), unstableTerm(u, 5), unstableTerm(u, 3)], [2, 2, undefined]);
    assert.equal(unstableLastIndex(u), 5);
  });
  it('stableTo drops persisted entries unless replaced', () => {
    const u = createUnstable(0);
    truncateAndAppend(u, [e(1, 1), e(2, 1), e(3, 1)]);
    assert.equal(stableTo(u, 2, 3), false);
    assert.equal(stableTo(u, 2, 1), true);
    assert.deepEqual([u.offset, ids(u.entries)], [3, ['3/1']]);
  });
});
