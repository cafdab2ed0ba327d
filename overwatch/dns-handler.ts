/**
 * The DNS query handler of an overwatch node: the serving gate (cluster mode: lease or max_stale, decided per
 * query at the moment it is handled), the answer from the current table, per-domain round-robin cursors and
 * the DNS metrics. Nothing here logs: a query must not cost a log line.
 */
import type { Answer, Query } from '../internal/dns/types.js';
import type { AnswerTable } from './answer-table.js';
import { answerQuery } from './dns-answer.js';
import { type OverwatchMetrics, qtypeLabel } from './metrics.js';
import type { Rand } from './routing.js';

/** What {@link createDnsHandler} reads per query; every call returns current data, so reloads apply at once. */
export interface DnsHandlerDeps {
  metrics: Pick<OverwatchMetrics, 'dnsQueries' | 'dnsRefused' | 'dnsQueryDuration'>;
  /** Whether this node may answer at monotonic time `now` (cluster gate); standalone: always. */
  mayServe(now: number): boolean;
  table(): AnswerTable;
  /** False until the first round of health checks is reflected in the decisions. */
  ready(): boolean;
  rand: Rand;
  /** Monotonic ms (performance.now in production). */
  now(): number;
}

/** Round-robin cursors wrap well below 2^53; the modulo in pickRoundRobin keeps rotation exact. */
const CURSOR_WRAP = 1_000_000_007;

/** Returns the handler for createDnsServer. */
export function createDnsHandler(d: DnsHandlerDeps): (query: Query) => Answer {
  const cursors = new Map<string, number>();
  const nextCursor = (domain: string, family: 4 | 6): number => {
    const key = `${family}/${domain}`;
    const c = cursors.get(key) ?? 0;
    cursors.set(key, (c + 1) % CURSOR_WRAP);
    return c;
  };
  return (query) => {
    const started = d.now();
    const qtype = qtypeLabel(query.question.type);
    // Cluster mode: the leader answers while it holds its lease, so every answer reflects committed decisions
    // (Oba seed, step 4) and a paused or deposed leader stops at once; with serve_on: any, fresh followers too.
    if (!d.mayServe(started)) {
      d.metrics.dnsQueries.inc({ qtype, rcode: 'REFUSED' });
      d.metrics.dnsRefused.inc();
      return { rcode: 'REFUSED', answers: [], authoritative: false };
    }
    const answer = answerQuery(query, { table: d.table(), ready: d.ready(), rand: d.rand, nextCursor });
    d.metrics.dnsQueries.inc({ qtype, rcode: answer.rcode });
    if (answer.rcode === 'REFUSED') d.metrics.dnsRefused.inc();
    d.metrics.dnsQueryDuration.observe((d.now() - started) / 1000);
    return answer;
  };
}
