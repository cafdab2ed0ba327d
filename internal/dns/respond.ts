import type { Answer, QueryHandler, RequestInfo } from './types.js';
import { encodeAnswer, encodeParseError, MAX_MESSAGE_SIZE, parseQuery, udpResponseLimit } from './wire.js';

/**
 * What to do with one received message, independent of transport.
 *
 * - `reply`: send `bytes`. `error` is set when this layer, not the policy, chose the rcode: FORMERR/NOTIMP for
 *   a malformed or unsupported query, SERVFAIL when the handler threw or returned unencodable records (`cause`).
 * - `drop`: send nothing (see `ParseOutcome`).
 */
export type Exchange =
  | {
      kind: 'reply';
      bytes: Uint8Array;
      error?: { rcode: 'FORMERR' | 'NOTIMP' | 'SERVFAIL'; reason: string; cause?: unknown };
    }
  | { kind: 'drop'; reason: 'short' | 'response' };

const SERVFAIL: Answer = { rcode: 'SERVFAIL', answers: [], authoritative: false };

/**
 * Parses `packet`, asks `handler`, and encodes the reply within the transport's size limit. Never throws for
 * any packet or handler behaviour.
 * @param maxUdpSize our UDP payload limit, also advertised in OPT; ignored for TCP beyond the advertisement.
 */
export function respond(
  packet: Uint8Array,
  info: RequestInfo,
  handler: QueryHandler,
  maxUdpSize: number,
): Exchange {
  const parsed = parseQuery(packet);
  if (parsed.kind === 'drop') return parsed;
  if (parsed.kind === 'error') {
    return {
      kind: 'reply',
      bytes: encodeParseError(parsed),
      error: { rcode: parsed.rcode, reason: parsed.reason },
    };
  }
  const query = parsed.query;
  const limit = info.transport === 'udp' ? udpResponseLimit(query, maxUdpSize) : MAX_MESSAGE_SIZE;
  const encode = (answer: Answer): Uint8Array => encodeAnswer(query, answer, limit, maxUdpSize);
  let answer: Answer;
  try {
    answer = handler(query, info);
  } catch (e: unknown) {
    return servfail(encode, 'query handler threw', e);
  }
  try {
    return { kind: 'reply', bytes: encode(answer) };
  } catch (e: unknown) {
    return servfail(encode, 'query handler returned an unencodable answer', e);
  }
}

function servfail(encode: (a: Answer) => Uint8Array, reason: string, cause: unknown): Exchange {
  return { kind: 'reply', bytes: encode(SERVFAIL), error: { rcode: 'SERVFAIL', reason, cause } };
}
