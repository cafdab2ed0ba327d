/**
 * The authoritative answer for one query, from the answer table. Pure given its inputs: the round-robin
 * cursors and the random source are passed in by the serving shell.
 *
 * Outcomes (RFC 1035, RFC 2308, RFC 8020):
 * - name outside every zone we serve: REFUSED (we are not a resolver);
 * - a configured domain, A/AAAA: addresses chosen by the routing algorithm; SERVFAIL when no backend serves
 *   (unless `return_last_healthy`) or before the first round of health checks;
 * - a configured domain, any other type, or A/AAAA for a family it has no backend of: NODATA + SOA;
 * - the apex, SOA: the SOA record; another existing name (empty non-terminal): NODATA + SOA;
 * - any other name inside a zone: NXDOMAIN + SOA.
 */
import type { Answer, Query, ResourceRecord } from '../internal/dns/types.js';
import type { AnswerTable, DomainAnswers, ZoneInfo } from './answer-table.js';
import { canonicalName, zoneFor } from './answer-table.js';
import type { Backend } from './backends.js';
import { pickFailover, pickRoundRobin, pickWeighted, type Rand } from './routing.js';

export interface AnswerContext {
  table: AnswerTable;
  /** False until the first round of health checks has completed. */
  ready: boolean;
  rand: Rand;
  /** Returns and advances the round-robin cursor of a domain and family. */
  nextCursor: (domain: string, family: 4 | 6) => number;
}

const SOA_REFRESH = 3600;
const SOA_RETRY = 600;
const SOA_EXPIRE = 86400;

function soaRecord(zone: ZoneInfo): ResourceRecord {
  return {
    name: zone.apex,
    type: 'SOA',
    ttl: zone.negativeTtl,
    data: {
      mname: zone.apex,
      rname: `hostmaster.${zone.apex}`,
      serial: zone.serial,
      refresh: SOA_REFRESH,
      retry: SOA_RETRY,
      expire: SOA_EXPIRE,
      minimum: zone.negativeTtl,
    },
  };
}

function negative(rcode: 'NOERROR' | 'NXDOMAIN', zone: ZoneInfo): Answer {
  return { rcode, answers: [], authorities: [soaRecord(zone)], authoritative: true };
}

/** Computes the answer for `query`. */
export function answerQuery(query: Query, ctx: AnswerContext): Answer {
  const name = canonicalName(query.question.name);
  const zone = zoneFor(ctx.table, name);
  if (zone === undefined || query.question.class !== 'IN') {
    return { rcode: 'REFUSED', answers: [], authoritative: false };
  }
  const type = query.question.type;
  const domain = ctx.table.domains.get(name);
  if (domain !== undefined && (type === 'A' || type === 'AAAA')) {
    return addressAnswer(domain, type === 'A' ? 4 : 6, zone, ctx);
  }
  if (name === zone.apex && type === 'SOA') {
    return { rcode: 'NOERROR', answers: [soaRecord(zone)], authoritative: true };
  }
  if (domain !== undefined || zone.names.has(name)) return negative('NOERROR', zone);
  return negative('NXDOMAIN', zone);
}

function addressAnswer(domain: DomainAnswers, family: 4 | 6, zone: ZoneInfo, ctx: AnswerContext): Answer {
  if (!ctx.ready) return { rcode: 'SERVFAIL', answers: [], authoritative: true };
  let pool = domain.serving;
  if (pool.length === 0 && domain.returnLastHealthy) pool = domain.lastServing;
  if (pool.length === 0) {
    // Nothing serves: a name with no backend of this family at all is NODATA, otherwise the outage shows.
    if (!domain.backends.some((b) => b.family === family)) return negative('NOERROR', zone);
    return { rcode: 'SERVFAIL', answers: [], authoritative: true };
  }
  const candidates = pool.filter((b) => b.family === family);
  if (candidates.length === 0) return negative('NOERROR', zone);
  const chosen = choose(domain, candidates, family, ctx);
  if (chosen.length === 0) return { rcode: 'SERVFAIL', answers: [], authoritative: true };
  return {
    rcode: 'NOERROR',
    authoritative: true,
    answers: chosen.map((b) => ({
      name: domain.name,
      type: family === 4 ? 'A' : 'AAAA',
      ttl: domain.ttl,
      data: b.address,
    })),
  };
}

function choose(
  domain: DomainAnswers,
  candidates: readonly Backend[],
  family: 4 | 6,
  ctx: AnswerContext,
): Backend[] {
  switch (domain.algorithm) {
    case 'weighted':
      return pickWeighted(candidates, ctx.rand, domain.maxRecords);
    case 'failover':
      return pickFailover(candidates, domain.maxRecords);
    default:
      // round-robin; geolocation and latency are rejected by config validation until they exist.
      return pickRoundRobin(candidates, ctx.nextCursor(domain.name, family), domain.maxRecords);
  }
}
