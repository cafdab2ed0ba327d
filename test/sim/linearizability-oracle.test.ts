import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SeededRand, seededRand } from '../../internal/testkit/seeded-rand.js';
import { renderHistory } from './history.js';
import {
  checkLinearizable,
  explainFailure,
  type RegisterOperation,
  registerModel,
} from './linearizability.js';

/**
 * The definition, executed literally: some order of all completed operations plus any subset of the open ones,
 * legal for the map, in which an operation never precedes one that returned before it was called. No per-key
 * split, no memo, no event list; exponential, so only for tiny histories.
 */
function bruteForce(ops: readonly RegisterOperation[]): boolean {
  const model = registerModel();
  const search = (remaining: readonly RegisterOperation[], state: ReadonlyMap<string, string>): boolean => {
    // Leaving the open operations out is allowed: they may never have taken effect.
    if (remaining.every((o) => o.returnTime === undefined)) return true;
    for (const o of remaining) {
      const mustPrecede = remaining.some((p) => p.returnTime !== undefined && p.returnTime < o.callTime);
      if (mustPrecede) continue;
      const r = model.step(state.get(o.key), o);
      if (!r.ok) continue;
      const next = new Map(state);
      if (r.next === undefined) next.delete(o.key);
      else next.set(o.key, r.next);
      if (
        search(
          remaining.filter((p) => p !== o),
          next,
        )
      )
        return true;
    }
    return false;
  };
  return search(ops, new Map());
}

/**
 * Up to 7 operations on two keys with random windows on an integer clock (so windows often touch), random values
 * from a tiny domain and 15% open operations: a mix of linearizable and non-linearizable histories.
 */
function randomHistory(rand: SeededRand): RegisterOperation[] {
  const values = [undefined, 'a', 'b', 'c'];
  const n = 1 + rand.int(7);
  const ops: RegisterOperation[] = [];
  for (let id = 0; id < n; id++) {
    const key = rand.int(4) === 0 ? 'y' : 'x';
    const callTime = rand.int(20);
    const returnTime = rand.int(100) < 15 ? undefined : callTime + rand.int(8);
    const client = `c${id}`;
    const roll = rand.int(100);
    const base = { id, client, key, callTime, returnTime, output: undefined, input: undefined };
    if (roll < 40) ops.push({ ...base, action: 'write', input: values[1 + rand.int(3)] });
    else if (roll < 55) ops.push({ ...base, action: 'delete' });
    else
      ops.push({
        ...base,
        action: 'read',
        output: returnTime === undefined ? undefined : values[rand.int(4)],
      });
  }
  return ops;
}

describe('checkLinearizable agrees with a brute-force search', () => {
  const seed = 20240611;
  it(`on 3000 tiny random histories (seed ${seed})`, () => {
    const rand = seededRand(seed);
    const verdicts = { accepted: 0, rejected: 0 };
    for (let i = 0; i < 3000; i++) {
      const ops = randomHistory(rand);
      const want = bruteForce(ops);
      const got = checkLinearizable(ops, registerModel());
      assert.notEqual(
        got.ok,
        'unknown',
        `seed ${seed} history ${i}: budget exhausted\n${renderHistory(ops)}`,
      );
      if (got.ok !== want) {
        const detail = got.ok === false ? explainFailure(ops, got) : renderHistory(ops);
        assert.fail(`seed ${seed} history ${i}: brute force says ${want}, checker says ${got.ok}\n${detail}`);
      }
      verdicts[want ? 'accepted' : 'rejected']++;
    }
    // Both verdicts must be common, or the comparison proves little.
    assert.ok(verdicts.accepted > 600 && verdicts.rejected > 600, `verdict mix ${JSON.stringify(verdicts)}`);
  });
});
