import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRand } from '../../internal/testkit/seeded-rand.js';
import { createEventQueue } from './event-queue.js';

describe('event queue', () => {
  it('pops by time, then in insertion order (seed 7)', () => {
    const rand = seededRand(7);
    const q = createEventQueue<number>();
    const pushed: { at: number; ev: number }[] = [];
    for (let i = 0; i < 500; i++) {
      const at = rand.int(50);
      q.push(at, i);
      pushed.push({ at, ev: i });
    }
    const want = pushed.sort((a, b) => a.at - b.at || a.ev - b.ev);
    const got: { at: number; ev: number }[] = [];
    for (let e = q.pop(); e !== undefined; e = q.pop()) got.push(e);
    assert.deepEqual(got, want);
    assert.equal(q.size, 0);
    assert.equal(q.peekTime(), Number.POSITIVE_INFINITY);
  });
});
