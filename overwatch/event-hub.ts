/**
 * Where applied events go: fan-out to WatchEvents streams, with resume (a watcher passes the last event id it
 * saw and first gets the retained events after it, from the state machine's bounded audit trail, then live
 * ones), and the log line and metrics of each.
 */
import type { Logger } from 'pino';
import { createAsyncQueue } from '../internal/async/queue.js';
import type { EventRecord } from './fsm.js';
import type { OverwatchMetrics } from './metrics.js';

/** Logs each applied event (one line per decision change) and counts vetoes, applied or not. */
export function reportEvents(
  events: readonly EventRecord[],
  o: { metrics: OverwatchMetrics; log: Logger; vetoMode: string },
): void {
  for (const e of events) {
    if (e.to === 'vetoed') o.metrics.vetoes.inc({ mode: o.vetoMode, applied: 'true' });
    if (e.source === 'veto' && e.to !== 'vetoed')
      o.metrics.vetoes.inc({ mode: o.vetoMode, applied: 'false' });
    o.log.info(
      {
        event_id: e.id,
        service: e.service,
        backend: e.backend,
        from: e.from,
        to: e.to,
        source: e.source,
        reason: e.reason,
      },
      'decision event',
    );
  }
}

export interface EventHub {
  publish(events: readonly EventRecord[]): void;
  /** Events after `sinceId` from `backlog`, then (with `follow`, the default) live events until `signal` aborts. */
  watch(
    sinceId: number | undefined,
    backlog: () => readonly EventRecord[],
    signal: AbortSignal,
    follow?: boolean,
  ): AsyncIterable<EventRecord>;
  watchers(): number;
}

export function createEventHub(): EventHub {
  const subs = new Set<(e: EventRecord) => void>();
  return {
    publish(events) {
      for (const e of events) for (const s of subs) s(e);
    },
    watchers: () => subs.size,
    async *watch(sinceId, backlog, signal, follow = true) {
      // Bounded per watcher: a stalled client loses the oldest events, it cannot grow the process.
      const q = createAsyncQueue<EventRecord>(4096);
      let last = sinceId ?? Number.POSITIVE_INFINITY;
      const sub = (e: EventRecord) => q.push(e);
      subs.add(sub);
      const stop = () => q.close();
      signal.addEventListener('abort', stop, { once: true });
      try {
        if (sinceId !== undefined) {
          for (const e of backlog()) {
            if (e.id > sinceId) {
              last = e.id;
              yield e;
            }
          }
        } else last = 0;
        if (!follow) return;
        for await (const e of q) {
          if (sinceId !== undefined && e.id <= last) continue; // already sent from the backlog
          yield e;
        }
      } finally {
        subs.delete(sub);
        signal.removeEventListener('abort', stop);
      }
    },
  };
}
