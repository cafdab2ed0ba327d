/**
 * Explain: for a name, query type and client, the answer a query would get now and, for every backend of the
 * name, whether it is eligible and the chain of reasons (strongest authority first). Pure over its inputs.
 */
import { isIP } from 'node:net';
import type { Query } from '../internal/dns/types.js';
import { canonicalName } from './answer-table.js';
import type { BackendVerdict } from './backend-status.js';
import { type Backend, backendKey } from './backends.js';
import { answerQuery } from './dns-answer.js';
import type { Rand } from './routing.js';
import type { ServingState } from './serving-state.js';

export interface BackendExplanation {
  backend: Backend;
  verdict: BackendVerdict;
  eligible: boolean;
  effectiveWeight: number;
  reasons: string[];
}

export interface Explanation {
  rcode: string;
  answers: string[];
  ttl: number;
  algorithm: string;
  summary: string;
  backends: BackendExplanation[];
}

export function explain(
  state: ServingState,
  req: { name: string; qtype: string; clientAddress: string },
  ready: boolean,
  rand: Rand,
): Explanation {
  const name = canonicalName(req.name);
  const qtype = req.qtype === '' ? 'A' : req.qtype.toUpperCase();
  const query: Query = {
    id: 0,
    question: { name, type: qtype, class: 'IN' },
    recursionDesired: false,
    edns: undefined,
  };
  const answer = answerQuery(query, { table: state.table(), ready, rand, nextCursor: () => 0 });
  const domain = state.table().domains.get(name);
  const family = qtype === 'AAAA' ? 6 : 4;
  const configured = new Map(state.backends().map((b) => [backendKey(b), b]));
  const backends: BackendExplanation[] = (domain?.backends ?? []).map((effective) => {
    // The table holds effective weights; show the configured one next to the effective share.
    const b = configured.get(backendKey(effective)) ?? effective;
    const verdict = state.verdict(b);
    const reasons = [verdict.reason];
    let eligible = verdict.status === 'healthy' && verdict.weightFraction > 0;
    if (b.weight === 0) {
      reasons.push('weight 0: never chosen');
      eligible = false;
    }
    if (b.family !== family) {
      reasons.push(`IPv${b.family} address: not an answer to ${qtype}`);
      eligible = false;
    }
    if (verdict.weightFraction > 0 && verdict.weightFraction < 1)
      reasons.push(`weight share ${Math.round(verdict.weightFraction * 100)}%`);
    return {
      backend: b,
      verdict,
      eligible,
      effectiveWeight: eligible ? b.weight * verdict.weightFraction : 0,
      reasons,
    };
  });
  const answers = answer.answers.map((r) => String(r.data));
  return {
    rcode: answer.rcode,
    answers,
    ttl: answer.answers[0]?.ttl ?? 0,
    algorithm: domain?.algorithm ?? '',
    summary: summarize(answer.rcode, answers, ready, domain !== undefined, req.clientAddress, backends),
    backends,
  };
}

function summarize(
  rcode: string,
  answers: string[],
  ready: boolean,
  known: boolean,
  client: string,
  backends: BackendExplanation[],
): string {
  const clientNote =
    client !== '' && isIP(client) === 0 ? ` (client "${client}" is not an IP address; ignored)` : '';
  if (rcode === 'REFUSED') return `the name is outside every zone this node serves${clientNote}`;
  if (rcode === 'NXDOMAIN') return `no such name in the zone${clientNote}`;
  if (!ready) return 'the first round of health checks has not completed; answers are SERVFAIL until it does';
  if (!known) return `the name exists only as part of the zone; no addresses${clientNote}`;
  const eligible = backends.filter((b) => b.eligible).length;
  if (rcode === 'SERVFAIL')
    return `no backend is eligible (${backends.length} configured); return_last_healthy is off or never had a healthy set`;
  if (answers.length === 0) return `no backend of this address family (${backends.length} configured)`;
  if (eligible === 0)
    return 'no backend is eligible; answering with the last healthy set (return_last_healthy)';
  return `${eligible} of ${backends.length} backends eligible; answered ${answers.join(', ')}${clientNote}`;
}
