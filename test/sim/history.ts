/**
 * Histories of client operations against a replicated store: the recorder tests use while driving real processes,
 * the two interchangeable shapes a history can take (completed operations, call/return events), and a compact
 * text rendering for failure messages. Times come from an injected monotonic clock; nothing here reads ambient time.
 */

/**
 * One client operation. `returnTime === undefined` marks it open: the client gave up (timeout, connection lost)
 * without learning the outcome, so the operation may have taken effect at any instant after `callTime`, or never.
 */
export interface Operation<In = unknown, Out = unknown> {
  /** Unique within a history. */
  readonly id: number;
  /** Who issued it; informational (the checker needs only the time windows). */
  readonly client: string;
  /** The register it touches; histories are checked per key. */
  readonly key: string;
  /** Model-defined verb, e.g. `write`, `delete`, `read`. */
  readonly action: string;
  /** The argument, e.g. the written value; undefined for argument-less actions. */
  readonly input: In | undefined;
  /** What the client observed; undefined both for "absent" reads and for open operations. */
  readonly output: Out | undefined;
  /** Clock reading just before the request was sent. */
  readonly callTime: number;
  /** Clock reading just after the response arrived; undefined while the outcome is unknown. */
  readonly returnTime: number | undefined;
}

/**
 * The same information as a flat event list: a `call` and, unless the operation is open, one `return` per `op`.
 * `value` on the call is the operation's input, `output` on the return its result.
 */
export interface HistoryEvent<In = unknown, Out = unknown> {
  readonly kind: 'call' | 'return';
  /** The operation id shared by a call and its return. */
  readonly op: number;
  readonly client: string;
  readonly key: string;
  readonly action: string;
  readonly value?: In | undefined;
  readonly output?: Out | undefined;
  readonly time: number;
}

/** Either shape of a history; every consumer here accepts both. */
export type History<In = unknown, Out = unknown> =
  | readonly Operation<In, Out>[]
  | readonly HistoryEvent<In, Out>[];

/** Operation form of `history`, converting events with {@link operationsFromEvents} when needed. */
export function toOperations<In, Out>(history: History<In, Out>): readonly Operation<In, Out>[] {
  const first = history[0];
  if (first !== undefined && 'kind' in first)
    return operationsFromEvents(history as readonly HistoryEvent<In, Out>[]);
  return history as readonly Operation<In, Out>[];
}

/**
 * Pairs calls with returns. A call without a return becomes an open operation. Throws on a return without an
 * earlier call, a second call or return for the same op, or a return whose time precedes its call.
 */
export function operationsFromEvents<In, Out>(
  events: readonly HistoryEvent<In, Out>[],
): Operation<In, Out>[] {
  const open = new Map<number, Operation<In, Out>>();
  const done = new Map<number, Operation<In, Out>>();
  const order: number[] = [];
  for (const e of events) {
    if (e.kind === 'call') {
      if (open.has(e.op) || done.has(e.op)) throw new Error(`history: op ${e.op} is called twice`);
      open.set(e.op, {
        id: e.op,
        client: e.client,
        key: e.key,
        action: e.action,
        input: e.value,
        output: undefined,
        callTime: e.time,
        returnTime: undefined,
      });
      order.push(e.op);
      continue;
    }
    const call = open.get(e.op);
    if (call === undefined) {
      throw new Error(
        `history: op ${e.op} returns at t=${e.time} ${done.has(e.op) ? 'twice' : 'without a call'}`,
      );
    }
    if (e.time < call.callTime) {
      throw new Error(`history: op ${e.op} returns at t=${e.time}, before its call at t=${call.callTime}`);
    }
    open.delete(e.op);
    done.set(e.op, { ...call, output: e.output, returnTime: e.time });
  }
  return order.map((id) => (done.get(id) ?? open.get(id)) as Operation<In, Out>);
}

/** Event form of `ops`, ordered by time with calls before returns at equal times (they count as concurrent). */
export function eventsFromOperations<In, Out>(ops: readonly Operation<In, Out>[]): HistoryEvent<In, Out>[] {
  const events: HistoryEvent<In, Out>[] = [];
  for (const o of ops) {
    const base = { op: o.id, client: o.client, key: o.key, action: o.action };
    events.push({ kind: 'call', ...base, value: o.input, time: o.callTime });
    if (o.returnTime !== undefined)
      events.push({ kind: 'return', ...base, output: o.output, time: o.returnTime });
  }
  return events.sort(
    (a, b) => a.time - b.time || (a.kind === b.kind ? a.op - b.op : a.kind === 'call' ? -1 : 1),
  );
}

/** Completion handle of one recorded call; exactly one of its methods may be called, once. */
export interface CallHandle<Out> {
  /** The id the operation carries in the history. */
  readonly id: number;
  /** The request succeeded and observed `output` (omit it for acknowledgements and "absent" reads). */
  ok(output?: Out): void;
  /** The request definitely had no effect (e.g. a 4xx, or rejected before being proposed); it is dropped. */
  fail(): void;
  /** The outcome is unknown (timeout, reset connection); the operation stays open-ended. */
  timeout(): void;
}

/** Counts of recorded operations by outcome; `pending` ones have not been resolved yet. */
export interface RecorderStats {
  readonly ok: number;
  readonly failed: number;
  readonly open: number;
  readonly pending: number;
}

/** Collects a history from concurrent clients. */
export interface Recorder<In, Out> {
  /** Records the call now; resolve it through the returned handle when the response (or its absence) is known. */
  recordCall(client: string, key: string, action: string, input?: In): CallHandle<Out>;
  /** The history so far: failed operations are dropped, unresolved ones are open (their outcome is unknown). */
  history(): Operation<In, Out>[];
  stats(): RecorderStats;
}

/** Options of {@link createRecorder}. */
export interface RecorderOptions {
  /**
   * Monotonic clock in any unit (milliseconds from `performance.now()` in integration tests, a counter in unit
   * tests). Only the order of readings matters to the checker.
   */
  readonly now: () => number;
}

type Status = 'pending' | 'ok' | 'failed' | 'open';

interface Slot<In, Out> {
  op: Operation<In, Out>;
  status: Status;
}

/** A recorder whose ids count from 0 in call order. */
export function createRecorder<In, Out>(options: RecorderOptions): Recorder<In, Out> {
  const slots: Slot<In, Out>[] = [];

  const resolve = (slot: Slot<In, Out>, status: Status, output: Out | undefined): void => {
    if (slot.status !== 'pending') {
      throw new Error(`recorder: op ${slot.op.id} resolved as ${status} after it was already ${slot.status}`);
    }
    slot.status = status;
    if (status !== 'ok') return;
    const at = options.now();
    if (at < slot.op.callTime) {
      throw new Error(
        `recorder: clock went backwards: op ${slot.op.id} returns at ${at} < call at ${slot.op.callTime}`,
      );
    }
    slot.op = { ...slot.op, output, returnTime: at };
  };

  return {
    recordCall(client, key, action, input) {
      const slot: Slot<In, Out> = {
        op: {
          id: slots.length,
          client,
          key,
          action,
          input,
          output: undefined,
          callTime: options.now(),
          returnTime: undefined,
        },
        status: 'pending',
      };
      slots.push(slot);
      return {
        id: slot.op.id,
        ok: (output) => resolve(slot, 'ok', output),
        fail: () => resolve(slot, 'failed', undefined),
        timeout: () => resolve(slot, 'open', undefined),
      };
    },
    history: () => slots.filter((s) => s.status !== 'failed').map((s) => s.op),
    stats() {
      const n = (status: Status): number => slots.filter((s) => s.status === status).length;
      return { ok: n('ok'), failed: n('failed'), open: n('open'), pending: n('pending') };
    },
  };
}

function formatValue(v: unknown): string {
  return v === undefined ? 'absent' : (JSON.stringify(v) ?? String(v));
}

/** `client action(key, input) -> output`, e.g. `c2 read(x) -> "b"`; open operations show `-> ?`. */
export function describeOperation(op: Operation): string {
  const args = op.input === undefined ? op.key : `${op.key}, ${formatValue(op.input)}`;
  let result = '';
  if (op.returnTime === undefined) result = ' -> ?';
  else if (op.output !== undefined || op.action === 'read') result = ` -> ${formatValue(op.output)}`;
  return `${op.client} ${op.action}(${args})${result}`;
}

/** Marks added by {@link renderHistory}, usually taken from a checker failure. */
export interface RenderOptions {
  /** Render only this key. */
  readonly key?: string;
  /** Op ids in the order the checker linearized them; rendered as `L1`, `L2`, ... */
  readonly partial?: readonly number[];
  /** Op ids none of which could be linearized next; rendered as `<- stuck`. */
  readonly stuck?: readonly number[];
}

function formatTime(t: number): string {
  return Number.isInteger(t) ? String(t) : t.toFixed(3);
}

/**
 * One line per operation, grouped by key, ordered by call time:
 * `#4   c2  read(x) -> "a"   [7, 9]   L3`, with `[12, ...)  open` for open operations.
 */
export function renderHistory(history: History, options: RenderOptions = {}): string {
  const position = new Map((options.partial ?? []).map((id, i) => [id, i + 1]));
  const stuck = new Set(options.stuck ?? []);
  const ops = toOperations(history).filter((o) => options.key === undefined || o.key === options.key);
  const keys = [...new Set(ops.map((o) => o.key))].sort();
  const lines: string[] = [];
  for (const key of keys) {
    const group = ops.filter((o) => o.key === key).sort((a, b) => a.callTime - b.callTime || a.id - b.id);
    const open = group.filter((o) => o.returnTime === undefined).length;
    lines.push(`key ${JSON.stringify(key)}: ${group.length} ops, ${open} open`);
    const rows = group.map((o) => {
      const window = `[${formatTime(o.callTime)}, ${o.returnTime === undefined ? '...)' : `${formatTime(o.returnTime)}]`}`;
      const marks = [
        o.returnTime === undefined ? 'open' : '',
        position.has(o.id) ? `L${position.get(o.id)}` : '',
        stuck.has(o.id) ? '<- stuck' : '',
      ].filter((m) => m !== '');
      return [`#${o.id}`, describeOperation(o), window, marks.join(' ')];
    });
    const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
    for (const r of rows) {
      lines.push(`  ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}`.trimEnd());
    }
  }
  return lines.join('\n');
}
