/**
 * An unbounded-by-design-but-bounded-in-use async queue: producers `push`, one consumer iterates with
 * `for await`. `close()` ends the iteration after the queued items; `fail(e)` ends it by throwing `e`.
 * A `limit` bounds memory: pushing beyond it drops the oldest item and counts it (a slow consumer must not
 * grow the process without bound).
 */
export interface AsyncQueue<T> extends AsyncIterable<T> {
  push(item: T): void;
  close(): void;
  fail(e: unknown): void;
  /** Items dropped because the queue was full. */
  dropped(): number;
  readonly closed: boolean;
}

export function createAsyncQueue<T>(limit = 1024): AsyncQueue<T> {
  const items: T[] = [];
  let waiter: (() => void) | undefined;
  let done = false;
  let error: { e: unknown } | undefined;
  let dropped = 0;
  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  return {
    push(item) {
      if (done) return;
      if (items.length >= limit) {
        items.shift();
        dropped++;
      }
      items.push(item);
      wake();
    },
    close() {
      done = true;
      wake();
    },
    fail(e) {
      if (done) return;
      error = { e };
      done = true;
      wake();
    },
    dropped: () => dropped,
    get closed() {
      return done;
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (items.length > 0) {
          yield items.shift() as T;
          continue;
        }
        if (done) {
          if (error !== undefined) throw error.e;
          return;
        }
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
    },
  };
}
