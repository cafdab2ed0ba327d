import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createRecorder,
  describeOperation,
  eventsFromOperations,
  type HistoryEvent,
  type Operation,
  operationsFromEvents,
  renderHistory,
  toOperations,
} from './history.js';

/** A clock that advances by one per reading, so every call and return gets its own instant. */
function counter(): () => number {
  let t = 0;
  return () => t++;
}

describe('createRecorder', () => {
  it('records windows from the injected clock; ok closes, timeout leaves open, fail drops', () => {
    const rec = createRecorder<string, string>({ now: counter() });
    const w = rec.recordCall('c1', 'x', 'write', 'a'); // t=0
    const r = rec.recordCall('c2', 'x', 'read'); // t=1
    const lost = rec.recordCall('c3', 'x', 'write', 'b'); // t=2
    const rejected = rec.recordCall('c4', 'x', 'write', 'c'); // t=3
    const never = rec.recordCall('c5', 'x', 'delete'); // t=4, never resolved
    w.ok(); // t=5
    r.ok('a'); // t=6
    lost.timeout();
    rejected.fail();
    assert.deepEqual(rec.stats(), { ok: 2, failed: 1, open: 1, pending: 1 });
    assert.deepEqual(
      rec.history().map((o) => [o.id, describeOperation(o), o.callTime, o.returnTime]),
      [
        [w.id, 'c1 write(x, "a")', 0, 5],
        [r.id, 'c2 read(x) -> "a"', 1, 6],
        [lost.id, 'c3 write(x, "b") -> ?', 2, undefined],
        [never.id, 'c5 delete(x) -> ?', 4, undefined],
      ],
    );
  });

  it('refuses to resolve an operation twice', () => {
    const rec = createRecorder<string, string>({ now: counter() });
    const h = rec.recordCall('c1', 'x', 'read');
    h.timeout();
    assert.throws(() => h.ok('late'), /op 0 resolved as ok after it was already open/);
  });

  it('refuses a clock that runs backwards', () => {
    let t = 10;
    const rec = createRecorder<string, string>({ now: () => t-- });
    const h = rec.recordCall('c1', 'x', 'read');
    assert.throws(() => h.ok(), /clock went backwards: op 0 returns at 9 < call at 10/);
  });
});

const ops: Operation<string, string>[] = [
  {
    id: 0,
    client: 'c1',
    key: 'x',
    action: 'write',
    input: 'a',
    output: undefined,
    callTime: 0,
    returnTime: 2,
  },
  {
    id: 1,
    client: 'c2',
    key: 'x',
    action: 'read',
    input: undefined,
    output: undefined,
    callTime: 2,
    returnTime: 3,
  },
  {
    id: 2,
    client: 'c3',
    key: 'y',
    action: 'delete',
    input: undefined,
    output: undefined,
    callTime: 1,
    returnTime: undefined,
  },
];

describe('events and operations', () => {
  it('round-trips, with calls before returns at equal times', () => {
    const events = eventsFromOperations(ops);
    assert.deepEqual(
      events.map((e) => `${e.kind} ${e.op} @${e.time}`),
      ['call 0 @0', 'call 2 @1', 'call 1 @2', 'return 0 @2', 'return 1 @3'],
    );
    assert.deepEqual(operationsFromEvents(events), [ops[0], ops[2], ops[1]]);
    assert.deepEqual(toOperations(events), operationsFromEvents(events));
    assert.equal(toOperations(ops), ops);
  });

  const bad: [string, HistoryEvent[], RegExp][] = [
    [
      'a return without a call',
      [{ kind: 'return', op: 4, client: 'c', key: 'x', action: 'read', time: 1 }],
      /op 4 returns at t=1 without a call/,
    ],
    [
      'a second return',
      [
        { kind: 'call', op: 1, client: 'c', key: 'x', action: 'read', time: 1 },
        { kind: 'return', op: 1, client: 'c', key: 'x', action: 'read', time: 2 },
        { kind: 'return', op: 1, client: 'c', key: 'x', action: 'read', time: 3 },
      ],
      /op 1 returns at t=3 twice/,
    ],
    [
      'a return before its call',
      [
        { kind: 'call', op: 1, client: 'c', key: 'x', action: 'read', time: 5 },
        { kind: 'return', op: 1, client: 'c', key: 'x', action: 'read', time: 4 },
      ],
      /op 1 returns at t=4, before its call at t=5/,
    ],
  ];
  for (const [name, events, message] of bad) {
    it(`rejects ${name}`, () => assert.throws(() => operationsFromEvents(events), message));
  }
});

describe('renderHistory', () => {
  it('groups by key, orders by call time and marks the checker verdict', () => {
    assert.deepEqual(renderHistory(ops, { partial: [0], stuck: [1] }).split('\n'), [
      'key "x": 2 ops, 0 open',
      '  #0  c1 write(x, "a")      [0, 2]  L1',
      '  #1  c2 read(x) -> absent  [2, 3]  <- stuck',
      'key "y": 1 ops, 1 open',
      '  #2  c3 delete(y) -> ?  [1, ...)  open',
    ]);
  });

  it('renders one key and fractional clock readings', () => {
    const timed = ops.map((o) => ({ ...o, callTime: o.callTime + 0.25 }));
    assert.deepEqual(renderHistory(timed, { key: 'y' }).split('\n'), [
      'key "y": 1 ops, 1 open',
      '  #2  c3 delete(y) -> ?  [1.250, ...)  open',
    ]);
  });
});
