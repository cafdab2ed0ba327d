/**
 * Linearizability checker: Wing & Gong's backtracking search over the call/return event list, with Lowe's
 * memoization of (linearized set, model state) pairs (G. Lowe, "Testing for linearizability", 2017; the same
 * algorithm as Porcupine). Histories are split per key first: a map of independent registers is linearizable iff
 * every key's sub-history is (P-compositionality), which keeps each search small.
 *
 * Pure and deterministic: no I/O, and time only through the optional injected deadline clock.
 */

import { describeOperation, type History, type Operation, renderHistory, toOperations } from './history.js';

/** Outcome of applying one operation to a model state. */
export interface StepResult<S> {
  /** Whether the operation, with its observed output, is legal in the state. */
  readonly ok: boolean;
  /** The state after it; ignored when `ok` is false. */
  readonly next: S;
}

/**
 * A sequential specification of one key's object. States must be immutable values: the search keeps old ones to
 * backtrack to and caches them.
 */
export interface Model<S, In, Out> {
  init(): S;
  /**
   * Applies `op`. For an open operation (`returnTime === undefined`) the output is unknown, so the step must accept
   * whatever output the operation could have had.
   */
  step(state: S, op: Operation<In, Out>): StepResult<S>;
  equal(a: S, b: S): boolean;
  /** Equal states must hash equally. */
  hash(state: S): string;
  /** True for operations that never change the state; open ones carry no information and are dropped. */
  isReadOnly?(op: Operation<In, Out>): boolean;
  /** For failure reasons. */
  describeState?(state: S): string;
}

/** A rejected history; ids refer to `Operation.id`. */
export interface CheckFailure {
  readonly ok: false;
  /** The first key (in sorted order) whose sub-history has no linearization. */
  readonly key: string;
  readonly reason: string;
  /** The longest order of that key's operations the search managed to linearize. */
  readonly partial: readonly number[];
  /** The operations pending after `partial`: one of them had to take effect next, and none could. */
  readonly stuck: readonly number[];
}

/** The search ran out of budget on `key` before reaching a verdict. */
export interface CheckUnknown {
  readonly ok: 'unknown';
  readonly key: string;
  readonly reason: 'budget exhausted';
  /** Search steps spent on `key`. */
  readonly steps: number;
}

/** Verdict of {@link checkLinearizable}; a rejection on any key wins over an exhausted budget on another. */
export type CheckResult = { readonly ok: true } | CheckFailure | CheckUnknown;

/** Limits on the search; exceeding either yields `ok: 'unknown'` instead of hanging. */
export interface CheckOptions {
  /** Search steps (one candidate tried or one backtrack) allowed per key. Default 5,000,000 (seconds of CPU). */
  readonly maxSteps?: number;
  /** Gives up on all remaining keys once `now() >= atMs`; `now` is read every 1024 steps. */
  readonly deadline?: { readonly now: () => number; readonly atMs: number };
}

const DEFAULT_MAX_STEPS = 5_000_000;
const DEADLINE_CHECK_MASK = 1023;

/** Values of the {@link registerModel} registers; callers serialize richer values (JSON) into strings. */
export type RegisterOperation = Operation<string, string>;

/**
 * One key of a key-value map: `write` sets `input`, `delete` removes the value, `read` returns it (`output`
 * undefined = absent). Keys start absent. Open reads are dropped; open writes and deletes may take effect or not.
 */
export function registerModel(): Model<string | undefined, string, string> {
  return {
    init: () => undefined,
    step(state, op) {
      switch (op.action) {
        case 'write':
          if (op.input === undefined) throw new Error(`register: write op ${op.id} has no value`);
          return { ok: true, next: op.input };
        case 'delete':
          return { ok: true, next: undefined };
        case 'read':
          return { ok: op.returnTime === undefined || op.output === state, next: state };
        default:
          throw new Error(
            `register: op ${op.id} has action ${JSON.stringify(op.action)}; want write|delete|read`,
          );
      }
    },
    equal: (a, b) => a === b,
    // The prefix keeps "absent" distinct from every string value.
    hash: (s) => (s === undefined ? '-' : `=${s}`),
    isReadOnly: (op) => op.action === 'read',
    describeState: (s) => (s === undefined ? 'absent' : JSON.stringify(s)),
  };
}

/**
 * Checks `history` against `model` per key. Throws on a malformed history (duplicate ids, bad times), which is a
 * bug in the test rather than in the system under test.
 */
export function checkLinearizable<S, In, Out>(
  history: History<In, Out>,
  model: Model<S, In, Out>,
  options: CheckOptions = {},
): CheckResult {
  const ops = toOperations(history);
  validate(ops);
  const byKey = new Map<string, Operation<In, Out>[]>();
  for (const op of ops) {
    if (op.returnTime === undefined && model.isReadOnly?.(op) === true) continue;
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  let unknown: CheckUnknown | undefined;
  for (const key of [...byKey.keys()].sort()) {
    const result = searchKey(key, byKey.get(key) ?? [], model, options);
    if (result.ok === false) return result;
    if (result.ok === 'unknown') unknown ??= result;
  }
  return unknown ?? { ok: true };
}

/** The failure's reason followed by its key's history, marked with the partial order and the stuck operations. */
export function explainFailure(history: History, failure: CheckFailure): string {
  const marks = { key: failure.key, partial: failure.partial, stuck: failure.stuck };
  return `${failure.reason}\n${renderHistory(history, marks)}`;
}

function validate(ops: readonly Operation[]): void {
  const seen = new Set<number>();
  for (const op of ops) {
    if (seen.has(op.id)) throw new Error(`history: op id ${op.id} appears twice`);
    seen.add(op.id);
    if (!Number.isFinite(op.callTime))
      throw new Error(`history: op ${op.id} callTime ${op.callTime} is not finite`);
    const ret = op.returnTime;
    if (ret !== undefined && !(Number.isFinite(ret) && ret >= op.callTime)) {
      throw new Error(`history: op ${op.id} returnTime ${ret} must be finite and >= callTime ${op.callTime}`);
    }
  }
}

/** A node of the doubly-linked event list; `match` links a call to its return. */
interface Entry {
  readonly call: boolean;
  /** Index into the key's operation array; -1 for the head sentinel. */
  readonly index: number;
  match: Entry | undefined;
  prev: Entry | undefined;
  next: Entry | undefined;
}

/**
 * Sorted by time; at equal times calls come first, so touching windows count as concurrent. Open operations
 * return at +Infinity, after every real return.
 */
function buildList(ops: readonly Operation[]): Entry {
  const events: { time: number; entry: Entry }[] = [];
  ops.forEach((op, index) => {
    const call: Entry = { call: true, index, match: undefined, prev: undefined, next: undefined };
    const ret: Entry = { call: false, index, match: undefined, prev: undefined, next: undefined };
    call.match = ret;
    events.push({ time: op.callTime, entry: call }, { time: op.returnTime ?? Infinity, entry: ret });
  });
  events.sort(
    (a, b) =>
      a.time - b.time ||
      (a.entry.call === b.entry.call ? a.entry.index - b.entry.index : a.entry.call ? -1 : 1),
  );
  const head: Entry = { call: false, index: -1, match: undefined, prev: undefined, next: undefined };
  let last = head;
  for (const { entry } of events) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

/** Unlinks a call and its return. A call always has a successor (at least its own return). */
function lift(call: Entry): void {
  const ret = call.match as Entry;
  (call.prev as Entry).next = call.next;
  (call.next as Entry).prev = call.prev;
  (ret.prev as Entry).next = ret.next;
  if (ret.next !== undefined) ret.next.prev = ret.prev;
}

/** Exact inverse of {@link lift}; only valid in LIFO order, which the search stack guarantees. */
function unlift(call: Entry): void {
  const ret = call.match as Entry;
  (ret.prev as Entry).next = ret;
  if (ret.next !== undefined) ret.next.prev = ret;
  (call.prev as Entry).next = call;
  (call.next as Entry).prev = call;
}

/** A well-mixed 32-bit word per operation; XOR of the set members hashes the linearized set incrementally. */
function memberHash(index: number): number {
  let h = Math.imul(index + 1, 0x9e3779b1);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function searchKey<S, In, Out>(
  key: string,
  ops: readonly Operation<In, Out>[],
  model: Model<S, In, Out>,
  options: CheckOptions,
): CheckResult {
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  const deadline = options.deadline;
  const head = buildList(ops);
  const bits = new Uint32Array((ops.length + 31) >>> 5);
  let setHash = 0;
  const flip = (index: number): void => {
    bits[index >>> 5] = (bits[index >>> 5] ?? 0) ^ (1 << (index & 31));
    setHash = (setHash ^ memberHash(index)) >>> 0;
  };
  // Lowe's memo: (linearized set, state) pairs already explored; reaching one again cannot succeed either.
  const seen = new Map<string, { bits: Uint32Array; state: S }[]>();
  const stack: { call: Entry; before: S }[] = [];
  let state = model.init();
  let best = { partial: [] as number[], state, pending: pendingAfter(head) };
  let steps = 0;
  let entry = head.next;
  while (entry !== undefined) {
    steps++;
    const late =
      deadline !== undefined && (steps & DEADLINE_CHECK_MASK) === 0 && deadline.now() >= deadline.atMs;
    if (steps > maxSteps || late) {
      return { ok: 'unknown', key, reason: 'budget exhausted', steps };
    }
    const op = ops[entry.index] as Operation<In, Out>;
    if (!entry.call) {
      // Open returns sort last (+Infinity): reaching one means every completed operation is linearized, and the
      // open ones still unplaced may never have taken effect.
      if (op.returnTime === undefined) return { ok: true };
      const top = stack.pop();
      if (top === undefined) return failure(key, ops, model, best);
      flip(top.call.index);
      unlift(top.call);
      state = top.before;
      entry = top.call.next;
      continue;
    }
    const result = model.step(state, op);
    if (result.ok) {
      flip(entry.index);
      const slot = `${setHash}:${model.hash(result.next)}`;
      const bucket = seen.get(slot) ?? [];
      if (!bucket.some((b) => sameBits(b.bits, bits) && model.equal(b.state, result.next))) {
        bucket.push({ bits: bits.slice(), state: result.next });
        seen.set(slot, bucket);
        stack.push({ call: entry, before: state });
        state = result.next;
        lift(entry);
        if (stack.length > best.partial.length) {
          best = { partial: stack.map((s) => s.call.index), state, pending: pendingAfter(head) };
        }
        entry = head.next;
        continue;
      }
      flip(entry.index);
    }
    entry = entry.next;
  }
  return { ok: true };
}

/** Indices of the operations called before the first remaining return (the blocker's own call among them). */
function pendingAfter(head: Entry): { candidates: number[]; blocker: number | undefined } {
  const candidates: number[] = [];
  for (let e = head.next; e !== undefined; e = e.next) {
    if (!e.call) return { candidates, blocker: e.index };
    candidates.push(e.index);
  }
  return { candidates, blocker: undefined };
}

function failure<S, In, Out>(
  key: string,
  ops: readonly Operation<In, Out>[],
  model: Model<S, In, Out>,
  best: { partial: number[]; state: S; pending: { candidates: number[]; blocker: number | undefined } },
): CheckFailure {
  const id = (index: number): number => (ops[index] as Operation).id;
  const state = model.describeState === undefined ? '' : `, leaving state ${model.describeState(best.state)}`;
  const blocker = best.pending.blocker === undefined ? undefined : (ops[best.pending.blocker] as Operation);
  const must =
    blocker === undefined
      ? ''
      : `; op #${blocker.id} (${describeOperation(blocker)}) returned at t=${blocker.returnTime} so one of ` +
        `pending ops [${best.pending.candidates.map((i) => `#${id(i)}`).join(', ')}] had to take effect next, ` +
        'and no choice among them leads to a legal order';
  return {
    ok: false,
    key,
    reason:
      `not linearizable: key ${JSON.stringify(key)}: the longest legal order covers ${best.partial.length} of ` +
      `${ops.length} ops${state}${must}`,
    partial: best.partial.map(id),
    stuck: best.pending.candidates.map(id),
  };
}
