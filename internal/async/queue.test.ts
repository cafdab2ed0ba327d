import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAsyncQueue } from './queue.js';

async function drain<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('createAsyncQueue', () => {
  it('yields pushed items in order and ends on close', async () => {
    const q = createAsyncQueue<number>();
    q.push(1);
    const done = drain(q);
    q.push(2);
    q.close();
    q.push(3);
    assert.deepEqual(await done, [1, 2]);
  });
  it('throws the failure after queued items', async () => {
    const q = createAsyncQueue<number>();
    q.push(1);
    q.fail(new Error('boom'));
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const x of q) seen.push(x);
    }, /boom/);
    assert.deepEqual(seen, [1]);
  });
  it('drops the oldest beyond the limit and counts it', async () => {
    const q = createAsyncQueue<number>(2);
    for (const x of [1, 2, 3]) q.push(x);
    q.close();
    assert.deepEqual(await drain(q), [2, 3]);
    assert.equal(q.dropped(), 1);
  });
});
