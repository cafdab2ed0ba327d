import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  becomeProbe,
  becomeReplicate,
  becomeSnapshot,
  createProgress,
  describeProgress,
  isPaused,
  maybeDecrTo,
  maybeUpdate,
  type Progress,
  sentEntries,
} from './progress.js';

function pr(state: Progress['state'], match: number, next: number): Progress {
  const p = createProgress(next, 2, 0);
  p.match = match;
  if (state === 'replicate') becomeReplicate(p);
  if (state === 'snapshot') becomeSnapshot(p, 10);
  p.next = next;
  return p;
}

describe('maybeDecrTo', () => {
  const cases: {
    name: string;
    p: () => Progress;
    rejected: number;
    hint: number;
    ok: boolean;
    next: number;
  }[] = [
    {
      name: 'replicate: stale rejection at or below match',
      p: () => pr('replicate', 5, 10),
      rejected: 5,
      hint: 5,
      ok: false,
      next: 10,
    },
    {
      name: 'replicate: back to match + 1',
      p: () => pr('replicate', 5, 10),
      rejected: 9,
      hint: 9,
      ok: true,
      next: 6,
    },
    {
      name: 'probe: stale rejection (not of next - 1)',
      p: () => pr('probe', 0, 10),
      rejected: 5,
      hint: 2,
      ok: false,
      next: 10,
    },
    { name: 'probe: jump to hint + 1', p: () => pr('probe', 0, 10), rejected: 9, hint: 3, ok: true, next: 4 },
    {
      name: 'probe: hint above rejected is capped',
      p: () => pr('probe', 0, 10),
      rejected: 9,
      hint: 20,
      ok: true,
      next: 9,
    },
    {
      name: 'probe: never below match + 1',
      p: () => pr('probe', 4, 10),
      rejected: 9,
      hint: 1,
      ok: true,
      next: 5,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const p = c.p();
      assert.equal(maybeDecrTo(p, c.rejected, c.hint), c.ok);
      assert.equal(p.next, c.next);
    });
  }
});

describe('progress state machine', () => {
  it('probe sends one append, then waits for an answer', () => {
    const p = createProgress(5, 2, 0);
    assert.equal(isPaused(p), false);
    sentEntries(p, 3, 7);
    assert.equal(isPaused(p), true);
    assert.equal(p.next, 5, 'probe does not advance next optimistically');
    assert.equal(maybeUpdate(p, 7), true);
    assert.equal(isPaused(p), false);
    assert.deepEqual([p.match, p.next], [7, 8]);
  });

  it('replicate streams until the window is full', () => {
    const p = createProgress(5, 2, 0);
    p.match = 4;
    becomeReplicate(p);
    sentEntries(p, 2, 6);
    sentEntries(p, 1, 7);
    assert.equal(p.next, 8);
    assert.equal(isPaused(p), true);
    assert.equal(describeProgress(p), 'replicate match=4 next=8 inflight=2 paused');
    p.inflights.freeLE(6);
    assert.equal(isPaused(p), false);
  });

  it('snapshot pauses; probing resumes after the snapshot index', () => {
    const p = createProgress(3, 2, 0);
    becomeSnapshot(p, 10);
    assert.equal(isPaused(p), true);
    assert.equal(describeProgress(p), 'snapshot match=0 next=3 pending=10');
    becomeProbe(p);
    assert.deepEqual([p.state, p.next], ['probe', 11]);
    assert.throws(() => {
      becomeSnapshot(p, 12);
      sentEntries(p, 1, 13);
    }, /while a snapshot 12 is in flight/);
  });

  it('maybeUpdate never moves match backwards and keeps next above it', () => {
    const p = createProgress(10, 2, 0);
    p.match = 6;
    assert.equal(maybeUpdate(p, 4), false);
    assert.deepEqual([p.match, p.next], [6, 10]);
    assert.equal(maybeUpdate(p, 12), true);
    assert.deepEqual([p.match, p.next], [12, 13]);
  });
});
