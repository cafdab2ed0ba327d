/**
 * The flow-control window of one follower in replicate state (after etcd's tracker/inflights.go): the last
 * index of every append message sent and not yet acknowledged, oldest first. Full = the leader pauses
 * sending to that follower until an acknowledgement frees a slot.
 */
import { InvariantError } from '../errors.js';

/** A bounded FIFO of in-flight append messages, identified by their last entry index (increasing). */
export interface Inflights {
  /** Records a sent message whose last entry is `index`; throws if full or not increasing. */
  add(index: number): void;
  /** Frees every message whose last index is <= `index` (they are acknowledged). */
  freeLE(index: number): void;
  /** Whether no more messages may be sent. */
  full(): boolean;
  /** Messages in flight. */
  count(): number;
  /** Frees the oldest message (a heartbeat answer shows the follower is alive though acks were lost). */
  freeFirstOne(): void;
  /** Frees everything (the follower changed state). */
  reset(): void;
}

/** Creates an empty window of `size` (>= 1) slots, a ring buffer. */
export function createInflights(size: number): Inflights {
  if (!Number.isSafeInteger(size) || size < 1)
    throw new InvariantError(`inflights size ${size} must be >= 1`);
  const buf: number[] = new Array<number>(size).fill(0);
  let start = 0;
  let count = 0;
  return {
    add(index: number): void {
      if (count === size)
        throw new InvariantError(`inflights: cannot add ${index}, all ${size} slots in use`);
      const last = count > 0 ? (buf[(start + count - 1) % size] as number) : undefined;
      if (last !== undefined && index <= last)
        throw new InvariantError(`inflights: index ${index} does not exceed the last in flight ${last}`);
      buf[(start + count) % size] = index;
      count++;
    },
    freeLE(index: number): void {
      while (count > 0 && (buf[start] as number) <= index) {
        start = (start + 1) % size;
        count--;
      }
      if (count === 0) start = 0;
    },
    freeFirstOne(): void {
      if (count === 0) return;
      start = (start + 1) % size;
      count--;
      if (count === 0) start = 0;
    },
    full: () => count === size,
    count: () => count,
    reset(): void {
      start = 0;
      count = 0;
    },
  };
}
