import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRand } from '../internal/testkit/seeded-rand.js';
import { pickFailover, pickRoundRobin, pickWeighted } from './routing.js';

const b = (name: string, weight: number) => ({ name, weight });
const names = (xs: Array<{ name: string }>) => xs.map((x) => x.name);

describe('pickRoundRobin', () => {
  const pool = [b('a', 100), b('b', 100), b('c', 100)];
  it('rotates the starting point with the cursor', () => {
    assert.deepEqual(names(pickRoundRobin(pool, 0, 1)), ['a']);
    assert.deepEqual(names(pickRoundRobin(pool, 1, 1)), ['b']);
    assert.deepEqual(names(pickRoundRobin(pool, 5, 1)), ['c']);
  });
  it('returns up to max records in rotated order', () => {
    assert.deepEqual(names(pickRoundRobin(pool, 1, 3)), ['b', 'c', 'a']);
    assert.deepEqual(names(pickRoundRobin(pool, 0, 10)), ['a', 'b', 'c']);
  });
  it('never picks a weight-0 backend', () => {
    const drained = [b('a', 0), b('b', 100)];
    for (let c = 0; c < 4; c++) assert.deepEqual(names(pickRoundRobin(drained, c, 1)), ['b']);
  });
  it('returns nothing when nothing is eligible', () => {
    assert.deepEqual(pickRoundRobin([b('a', 0)], 0, 1), []);
    assert.deepEqual(pickRoundRobin([], 3, 1), []);
  });
});

describe('pickWeighted', () => {
  it('draws the first record in proportion to weight (seed 42, 20000 draws)', () => {
    const rand = seededRand(42);
    const pool = [b('a', 100), b('b', 300), b('z', 0)];
    const counts = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const first = pickWeighted(pool, rand, 1)[0]?.name ?? 'none';
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    const share = (k: string) => (counts.get(k) ?? 0) / 20_000;
    assert.ok(Math.abs(share('a') - 0.25) < 0.02, `a share ${share('a')} want 0.25±0.02`);
    assert.ok(Math.abs(share('b') - 0.75) < 0.02, `b share ${share('b')} want 0.75±0.02`);
    assert.equal(counts.get('z'), undefined, 'weight 0 must never be chosen');
  });
  it('returns distinct backends up to max', () => {
    const rand = seededRand(7);
    for (let i = 0; i < 100; i++) {
      const got = names(pickWeighted([b('a', 1), b('b', 1000), b('c', 5)], rand, 3));
      assert.equal(new Set(got).size, 3, `duplicates in ${got}`);
    }
  });
  it('honours fractional weights (bleeding backends)', () => {
    const rand = seededRand(3);
    let small = 0;
    for (let i = 0; i < 10_000; i++)
      if (pickWeighted([b('a', 0.5), b('b', 99.5)], rand, 1)[0]?.name === 'a') small++;
    assert.ok(small > 20 && small < 90, `a chosen ${small}/10000 times, want ~50`);
  });
});

describe('pickRoundRobin with a bleeding backend', () => {
  it('follows effective weights evenly over successive cursors', () => {
    const pool = [b('a', 100), b('b', 50)];
    const counts = new Map<string, number>();
    for (let c = 0; c < 3000; c++) {
      const first = pickRoundRobin(pool, c, 1)[0]?.name ?? '';
      counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    assert.ok(
      Math.abs((counts.get('a') ?? 0) / 3000 - 2 / 3) < 0.01,
      `a share ${(counts.get('a') ?? 0) / 3000}, want 0.667`,
    );
  });
});

describe('pickFailover', () => {
  it('hands a bleeding primary over to the next backend at full share', () => {
    assert.deepEqual(names(pickFailover([{ ...b('p', 50), share: 0.5 }, b('s', 100)], 1)), ['s']);
    assert.deepEqual(
      names(
        pickFailover(
          [
            { ...b('p', 50), share: 0.5 },
            { ...b('s', 0), share: 0 },
          ],
          1,
        ),
      ),
      ['p'],
    );
  });
  it('returns the first eligible in configured order', () => {
    assert.deepEqual(names(pickFailover([b('p', 100), b('s', 100)], 1)), ['p']);
    assert.deepEqual(names(pickFailover([b('p', 0), b('s', 100)], 1)), ['s']);
    assert.deepEqual(names(pickFailover([b('p', 100), b('s', 100), b('t', 1)], 2)), ['p', 's']);
  });
});
