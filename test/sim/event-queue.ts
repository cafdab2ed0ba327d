/**
 * The simulator's agenda: events ordered by virtual time, ties broken by insertion order so a run is a pure
 * function of its seed (a binary heap alone is not stable).
 */

/** A min-heap of events keyed by (time, insertion sequence). */
export interface EventQueue<T> {
  /** Schedules `ev` at virtual time `at` (ms). */
  push(at: number, ev: T): void;
  /** Removes and returns the earliest event, or undefined when empty. */
  pop(): { at: number; ev: T } | undefined;
  /** Time of the earliest event; Infinity when empty. */
  peekTime(): number;
  readonly size: number;
}

interface Slot<T> {
  at: number;
  seq: number;
  ev: T;
}

const before = <T>(a: Slot<T>, b: Slot<T>): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

/** Creates an empty queue. */
export function createEventQueue<T>(): EventQueue<T> {
  const heap: Slot<T>[] = [];
  let seq = 0;

  function up(i: number): void {
    const s = heap[i] as Slot<T>;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = heap[p] as Slot<T>;
      if (!before(s, ps)) break;
      heap[i] = ps;
      i = p;
    }
    heap[i] = s;
  }

  function down(i: number): void {
    const s = heap[i] as Slot<T>;
    const n = heap.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && before(heap[r] as Slot<T>, heap[l] as Slot<T>) ? r : l;
      const cs = heap[c] as Slot<T>;
      if (!before(cs, s)) break;
      heap[i] = cs;
      i = c;
    }
    heap[i] = s;
  }

  return {
    push(at: number, ev: T): void {
      heap.push({ at, seq: seq++, ev });
      up(heap.length - 1);
    },
    pop(): { at: number; ev: T } | undefined {
      const top = heap[0];
      if (top === undefined) return undefined;
      const last = heap.pop() as Slot<T>;
      if (heap.length > 0) {
        heap[0] = last;
        down(0);
      }
      return { at: top.at, ev: top.ev };
    },
    peekTime: () => heap[0]?.at ?? Number.POSITIVE_INFINITY,
    get size(): number {
      return heap.length;
    },
  };
}
