import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvariantError } from '../errors.js';
import { createInflights } from './inflights.js';

describe('createInflights', () => {
  it('fills, frees in order and wraps around the ring', () => {
    const inf = createInflights(3);
    // A sequential table: each step applies an operation and checks count and fullness afterwards.
    const steps: { op: () => void; count: number; full: boolean }[] = [
      { op: () => inf.add(5), count: 1, full: false },
      { op: () => inf.add(7), count: 2, full: false },
      { op: () => inf.add(9), count: 3, full: true },
      { op: () => inf.freeLE(6), count: 2, full: false },
      { op: () => inf.add(12), count: 3, full: true },
      { op: () => inf.freeLE(4), count: 3, full: true },
      { op: () => inf.freeFirstOne(), count: 2, full: false },
      { op: () => inf.freeLE(12), count: 0, full: false },
      { op: () => inf.add(13), count: 1, full: false },
      { op: () => inf.reset(), count: 0, full: false },
      { op: () => inf.freeFirstOne(), count: 0, full: false },
    ];
    steps.forEach((s, i) => {
      s.op();
      assert.equal(inf.count(), s.count, `step ${i}: count`);
      assert.equal(inf.full(), s.full, `step ${i}: full`);
    });
  });

  it('refuses to overfill or go backwards', () => {
    const inf = createInflights(1);
    inf.add(3);
    assert.throws(() => inf.add(4), InvariantError);
    inf.freeLE(3);
    inf.add(4);
    inf.freeLE(4);
    inf.add(5);
    const two = createInflights(2);
    two.add(8);
    assert.throws(() => two.add(8), /does not exceed the last in flight 8/);
  });

  it('rejects a size below 1', () => {
    assert.throws(() => createInflights(0), /inflights size 0 must be >= 1/);
  });
});
