import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SeededRand, seededRand } from '../../internal/testkit/seeded-rand.js';
import { eventsFromOperations, renderHistory } from './history.js';
import {
  type CheckOptions,
  type CheckResult,
  checkLinearizable,
  explainFailure,
  type RegisterOperation,
  registerModel,
} from './linearizability.js';

/**
 * One operation per line, ids are line numbers from 0:
 *   `c1 write x a 0 1` | `c1 delete x 0 1` | `c1 read x a 0 1` (`-` reads absent); a return time `...` = open.
 */
function parse(spec: string): RegisterOperation[] {
  const lines = spec
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  return lines.map((line, id) => {
    const [client, action, key, ...rest] = line.split(/\s+/);
    const input = action === 'write' ? rest.shift() : undefined;
    const seen = action === 'read' ? rest.shift() : undefined;
    const [call, ret] = rest;
    if (
      client === undefined ||
      action === undefined ||
      key === undefined ||
      call === undefined ||
      ret === undefined
    ) {
      throw new Error(
        `test spec line ${id + 1} ${JSON.stringify(line)}: want "client action key [value] call ret"`,
      );
    }
    const open = ret === '...';
    return {
      id,
      client,
      key,
      action,
      input,
      output: open || seen === '-' ? undefined : seen,
      callTime: Number(call),
      returnTime: open ? undefined : Number(ret),
    };
  });
}

function check(ops: readonly RegisterOperation[], options?: CheckOptions): CheckResult {
  return checkLinearizable(ops, registerModel(), options);
}

function describeResult(ops: readonly RegisterOperation[], r: CheckResult): string {
  if (r.ok === true) return `accepted\n${renderHistory(ops)}`;
  if (r.ok === false) return explainFailure(ops, r);
  return `${r.reason} on key ${r.key} after ${r.steps} steps\n${renderHistory(ops)}`;
}

function assertAccepted(ops: readonly RegisterOperation[], context: string, options?: CheckOptions): void {
  const r = check(ops, options);
  if (r.ok !== true) assert.fail(`${context}: want linearizable, got:\n${describeResult(ops, r)}`);
}

function assertRejected(
  ops: readonly RegisterOperation[],
  context: string,
): Extract<CheckResult, { ok: false }> {
  const r = check(ops);
  if (r.ok !== false)
    assert.fail(`${context}: want a linearizability violation, got:\n${describeResult(ops, r)}`);
  return r;
}

type Case = { readonly name: string; readonly history: string } & (
  | { readonly want: 'accept' }
  | {
      readonly want: 'reject';
      /** The key, and where pinned the longest linearized prefix and the stuck ops, the checker must report. */
      readonly failure: { readonly key: string; readonly partial?: number[]; readonly stuck?: number[] };
    }
);

const cases: Case[] = [
  { name: 'empty history', history: '', want: 'accept' },
  { name: 'a key starts absent', history: 'c1 read x - 0 1', want: 'accept' },
  {
    name: 'sequential write, read, delete, read',
    history: `
      c1 write x a 0 1
      c1 read x a 2 3
      c2 delete x 4 5
      c2 read x - 6 7`,
    want: 'accept',
  },
  {
    name: 'overlapping writes, reads see b then a',
    history: `
      c1 write x a 0 10
      c2 write x b 1 11
      c3 read x b 2 3
      c3 read x a 4 5`,
    want: 'accept',
  },
  {
    name: 'overlapping writes, reads see a then b',
    history: `
      c1 write x a 0 10
      c2 write x b 1 11
      c3 read x a 2 3
      c3 read x b 4 5`,
    want: 'accept',
  },
  {
    name: 'reads overlapping a write see the old value, then the new one',
    history: `
      c1 write x a 0 1
      c2 write x b 5 10
      c3 read x a 6 7
      c3 read x b 8 9`,
    want: 'accept',
  },
  {
    name: 'concurrent reads during a write may disagree',
    history: `
      c1 write x a 0 1
      c2 write x b 5 10
      c3 read x b 6 8
      c4 read x a 6 8`,
    want: 'accept',
  },
  {
    name: 'windows touching at one instant count as concurrent',
    history: `
      c1 write x a 0 5
      c2 read x - 5 6`,
    want: 'accept',
  },
  {
    name: 'stale read after a completed write',
    history: `
      c1 write x a 0 1
      c2 write x b 2 3
      c3 read x a 4 5`,
    want: 'reject',
    failure: { key: 'x', partial: [0, 1], stuck: [2] },
  },
  {
    name: 'new-then-old inversion while a write is in flight',
    history: `
      c1 write x a 0 1
      c2 write x b 5 10
      c3 read x b 6 7
      c4 read x a 8 9`,
    want: 'reject',
    failure: { key: 'x', partial: [0, 1, 2], stuck: [3] },
  },
  {
    name: 'read sees a value never written',
    history: `
      c1 write x a 0 1
      c2 read x z 2 3`,
    want: 'reject',
    failure: { key: 'x', partial: [0], stuck: [1] },
  },
  {
    name: 'read sees a value before its write was called',
    history: `
      c1 read x a 0 1
      c2 write x a 2 3`,
    want: 'reject',
    failure: { key: 'x', partial: [], stuck: [0] },
  },
  {
    name: 'absent after a completed write',
    history: `
      c1 write x a 0 1
      c2 read x - 2 3`,
    want: 'reject',
    failure: { key: 'x', partial: [0], stuck: [1] },
  },
  {
    name: 'two clients observe the writes in opposite orders',
    history: `
      c1 write x a 0 10
      c2 write x b 0 10
      c3 read x a 1 2
      c3 read x b 3 4
      c4 read x b 1 2
      c4 read x a 3 4`,
    want: 'reject',
    failure: { key: 'x' },
  },
  {
    name: 'open write that later appears',
    history: `
      c1 write x a 0 1
      c2 write x b 2 ...
      c3 read x b 5 6
      c3 read x b 7 8`,
    want: 'accept',
  },
  {
    name: 'open write that never appears',
    history: `
      c1 write x a 0 1
      c2 write x b 2 ...
      c3 read x a 5 6
      c3 read x a 7 8`,
    want: 'accept',
  },
  {
    name: 'open write that appears, then vanishes',
    history: `
      c1 write x a 0 1
      c2 write x b 2 ...
      c3 read x b 5 6
      c3 read x a 7 8`,
    want: 'reject',
    failure: { key: 'x', partial: [0, 1, 2], stuck: [3] },
  },
  {
    name: 'open write cannot take effect before its call',
    history: `
      c1 read x b 0 1
      c2 write x b 2 ...`,
    want: 'reject',
    failure: { key: 'x', partial: [], stuck: [0] },
  },
  {
    name: 'two open writes take effect in the opposite order of their calls',
    history: `
      c1 write x a 0 1
      c2 write x b 2 ...
      c3 write x c 3 ...
      c4 read x c 5 6
      c4 read x b 7 8`,
    want: 'accept',
  },
  {
    name: 'open delete that takes effect',
    history: `
      c1 write x a 0 1
      c2 delete x 2 ...
      c3 read x a 3 4
      c3 read x - 5 6`,
    want: 'accept',
  },
  {
    name: 'open delete that never takes effect',
    history: `
      c1 write x a 0 1
      c2 delete x 2 ...
      c3 read x a 3 4
      c3 read x a 5 6`,
    want: 'accept',
  },
  {
    name: 'open delete that takes effect, then is undone',
    history: `
      c1 write x a 0 1
      c2 delete x 2 ...
      c3 read x - 3 4
      c3 read x a 5 6`,
    want: 'reject',
    failure: { key: 'x', partial: [0, 1, 2], stuck: [3] },
  },
  {
    name: 'open reads carry no information',
    history: `
      c1 write x a 0 1
      c2 read x never-written 2 ...`,
    want: 'accept',
  },
  {
    name: 'keys are independent registers',
    history: `
      c1 write x a 0 1
      c2 write y b 0 1
      c3 read y b 2 3
      c3 read x a 2 3
      c4 delete x 4 5
      c4 read y b 6 7
      c4 read x - 6 7`,
    want: 'accept',
  },
  {
    name: 'a value written to x is not visible on y',
    history: `
      c1 write x a 0 1
      c2 read y a 2 3`,
    want: 'reject',
    failure: { key: 'y', partial: [], stuck: [1] },
  },
  {
    name: 'a violation is reported on its own key',
    history: `
      c1 write y a 0 1
      c1 write x a 2 3
      c2 write y b 4 5
      c3 read x a 6 7
      c3 read y a 8 9`,
    want: 'reject',
    failure: { key: 'y', partial: [0, 2], stuck: [4] },
  },
];

describe('checkLinearizable with the register model', () => {
  for (const c of cases) {
    it(`${c.want}s: ${c.name}`, () => {
      const ops = parse(c.history);
      if (c.want === 'accept') {
        assertAccepted(ops, c.name);
        return;
      }
      const r = assertRejected(ops, c.name);
      const got = { key: r.key, partial: [...r.partial], stuck: [...r.stuck] };
      const want = { partial: got.partial, stuck: got.stuck, ...c.failure };
      assert.deepEqual(got, want, `${c.name}: failure details\n${explainFailure(ops, r)}`);
      // The event form of the same history gets the same verdict.
      assert.deepEqual(
        check(parse(c.history)),
        checkLinearizable(eventsFromOperations(ops), registerModel()),
      );
    });
  }

  it('explains a failure with the marked history', () => {
    const ops = parse(`
      c1 write x a 0 1
      c2 write x b 2 3
      c3 read x a 4 5
      c4 write y a 4 ...`);
    const r = assertRejected(ops, 'stale read');
    assert.deepEqual(explainFailure(ops, r).split('\n'), [
      'not linearizable: key "x": the longest legal order covers 2 of 3 ops, leaving state "b"; op #2 ' +
        '(c3 read(x) -> "a") returned at t=5 so one of pending ops [#2] had to take effect next, ' +
        'and no choice among them leads to a legal order',
      'key "x": 3 ops, 0 open',
      '  #0  c1 write(x, "a")   [0, 1]  L1',
      '  #1  c2 write(x, "b")   [2, 3]  L2',
      '  #2  c3 read(x) -> "a"  [4, 5]  <- stuck',
    ]);
  });

  it('rejects malformed histories with the offending op', () => {
    const dup = parse('c1 write x a 0 1\nc2 write x b 2 3').map((o) => ({ ...o, id: 7 }));
    assert.throws(() => check(dup), /op id 7 appears twice/);
    const backwards = parse('c1 write x a 5 4');
    assert.throws(() => check(backwards), /op 0 returnTime 4 must be finite and >= callTime 5/);
    const verb = parse('c1 increment x 0 1');
    assert.throws(() => check(verb), /op 0 has action "increment"; want write\|delete\|read/);
  });
});

interface GenOptions {
  readonly ops: number;
  readonly keys: number;
  /** Values drawn from this many per key, or unique per write (then a read pins down its write). */
  readonly values: number | 'distinct';
  /** Each window spreads up to this far either side of its linearization point; points are 10 apart. */
  readonly spread: number;
}

/**
 * Executes random operations sequentially against a map, operation i taking effect at t = 10i, then hides that
 * order behind a random window around each point. Some writes and deletes time out (open, but took effect), some
 * open writes never took effect, and some open reads report garbage; the result is linearizable by construction.
 */
function generate(rand: SeededRand, g: GenOptions): RegisterOperation[] {
  const store = new Map<string, string>();
  const ops: RegisterOperation[] = [];
  for (let i = 0; i < g.ops; i++) {
    const key = `k${rand.int(g.keys)}`;
    const point = 10 * i;
    const callTime = point - 1 - rand.int(g.spread);
    const returnTime = point + 1 + rand.int(g.spread);
    const base = { id: i, client: `c${rand.int(5)}`, key, callTime, input: undefined, output: undefined };
    // A tenth of the writes and deletes that took effect time out: open, yet visible to later reads.
    const maybeOpen = (): number | undefined => (rand.int(10) === 0 ? undefined : returnTime);
    const roll = rand.int(100);
    if (roll < 4) {
      ops.push({ ...base, action: 'write', input: `ghost${i}`, returnTime: undefined });
    } else if (roll < 8) {
      ops.push({ ...base, action: 'read', output: 'garbage', returnTime: undefined });
    } else if (roll < 50) {
      const value = g.values === 'distinct' ? `v${i}` : `v${rand.int(g.values)}`;
      store.set(key, value);
      ops.push({ ...base, action: 'write', input: value, returnTime: maybeOpen() });
    } else if (roll < 60) {
      store.delete(key);
      ops.push({ ...base, action: 'delete', returnTime: maybeOpen() });
    } else {
      ops.push({ ...base, action: 'read', output: store.get(key), returnTime });
    }
  }
  return ops;
}

/**
 * Makes one completed read return the value of a completed write w although another completed write or delete
 * on that key both started after w returned and returned before the read was called: the classic stale read.
 * With distinct values no other write can explain it, so the history is certainly not linearizable.
 */
function corruptStale(rand: SeededRand, ops: RegisterOperation[]): RegisterOperation[] {
  const done = ops.filter((o) => o.returnTime !== undefined);
  const candidates: { read: RegisterOperation; value: string }[] = [];
  for (const read of done.filter((o) => o.action === 'read')) {
    for (const w of done.filter((o) => o.key === read.key && o.action === 'write')) {
      const overwritten = done.some(
        (o) =>
          o.key === read.key &&
          o.action !== 'read' &&
          o.callTime > (w.returnTime ?? Infinity) &&
          (o.returnTime ?? Infinity) < read.callTime,
      );
      if (overwritten && w.input !== undefined) candidates.push({ read, value: w.input });
    }
  }
  const pick = candidates[rand.int(candidates.length)];
  if (pick === undefined)
    throw new Error('generated history has no stale-read candidate; choose another seed');
  return ops.map((o) => (o.id === pick.read.id ? { ...o, output: pick.value } : o));
}

function corruptUnwritten(rand: SeededRand, ops: RegisterOperation[]): RegisterOperation[] {
  const reads = ops.filter((o) => o.action === 'read' && o.returnTime !== undefined);
  const victim = reads[rand.int(reads.length)];
  if (victim === undefined) throw new Error('generated history has no completed read');
  return ops.map((o) => (o.id === victim.id ? { ...o, output: 'never-written' } : o));
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

describe('randomized 200-operation histories from a sequential execution', () => {
  for (const seed of SEEDS) {
    it(`seed ${seed}: accepted with few values (ambiguous reads)`, () => {
      const ops = generate(seededRand(seed), { ops: 200, keys: 3, values: 3, spread: 40 });
      assertAccepted(ops, `seed ${seed}`);
    });
    it(`seed ${seed}: accepted with distinct values, rejected with one stale or unwritten read`, () => {
      const rand = seededRand(seed);
      const ops = generate(rand, { ops: 200, keys: 3, values: 'distinct', spread: 40 });
      assertAccepted(ops, `seed ${seed}`);
      assertRejected(corruptStale(rand, ops), `seed ${seed}, one stale read`);
      assertRejected(corruptUnwritten(rand, ops), `seed ${seed}, one read of an unwritten value`);
    });
  }
});

/**
 * n overlapping writes of distinct values, then a read of a value nobody wrote: refuting it visits every
 * (set of writes, last write) pair, n * 2^(n-1) of them, which no budget worth waiting for covers.
 */
function exponential(key: string, n: number): RegisterOperation[] {
  const writes = Array.from({ length: n }, (_, i) => `c${i} write ${key} v${i} ${i} ${100 + i}`);
  return parse([...writes, `r read ${key} never 200 201`].join('\n'));
}

describe('search budget', () => {
  it('gives up after maxSteps instead of hanging', () => {
    const ops = exponential('x', 24);
    assert.deepEqual(check(ops, { maxSteps: 100_000 }), {
      ok: 'unknown',
      key: 'x',
      reason: 'budget exhausted',
      steps: 100_001,
    });
  });

  it('gives up at the deadline of the injected clock, read every 1024 steps', () => {
    let reads = 0;
    const deadline = { now: () => reads++, atMs: 5 };
    assert.deepEqual(check(exponential('x', 24), { deadline }), {
      ok: 'unknown',
      key: 'x',
      reason: 'budget exhausted',
      steps: 6 * 1024,
    });
  });

  it('a violation on another key outranks an exhausted budget', () => {
    const stale = parse(`
      c1 write y a 0 1
      c2 write y b 2 3
      c3 read y a 4 5`).map((o) => ({ ...o, id: 100 + o.id }));
    const r = check([...exponential('x', 24), ...stale], { maxSteps: 10_000 });
    assert.equal(r.ok, false, describeResult(stale, r));
    assert.equal(r.ok === false && r.key, 'y');
  });
});
