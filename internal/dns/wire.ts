import dnsPacket from 'dns-packet';
import { encodeName, lowerName, readName } from './name.js';
import { encodeRecord } from './record.js';
import { classCode, className, typeCode, typeName } from './rr-type.js';
import type { Answer, ParseError, ParseOutcome, Query, Question, Rcode } from './types.js';

/** Fixed DNS header size (RFC 1035 §4.1.1). */
export const HEADER_LENGTH = 12;
/** UDP payload every resolver accepts without EDNS (RFC 1035 §4.2.1); EDNS sizes below it count as it. */
export const MIN_UDP_SIZE = 512;
/** Largest message: TCP's 2-byte length prefix (RFC 1035 §4.2.2). */
export const MAX_MESSAGE_SIZE = 65535;
/** EDNS UDP size we advertise when the caller names none: DNS Flag Day 2020's fragmentation-safe value. */
export const DEFAULT_EDNS_UDP_SIZE = 1232;

// Header flag bits (RFC 1035 §4.1.1).
const QR = 0x8000;
const AA = 0x0400;
const TC = 0x0200;
const RD = 0x0100;
const OPCODE_SHIFT = 11;
/** DO bit inside the OPT record's TTL field (RFC 3225 §3). */
const EDNS_DO = 0x8000;
const TYPE_OPT = 41;

const RCODES: Readonly<Record<Rcode, number>> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};

/**
 * Classifies a packet received by the server. Pure and total: never throws, whatever the bytes.
 *
 * Order matters: unreadable header or QR=1 is dropped before anything is answered; opcode is checked before the
 * question count so UPDATE/NOTIFY get NOTIMP rather than FORMERR. Any other class than IN is reported, not
 * refused: that is policy.
 */
export function parseQuery(buf: Uint8Array): ParseOutcome {
  if (buf.length < HEADER_LENGTH) return { kind: 'drop', reason: 'short' };
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const id = view.readUInt16BE(0);
  const flags = view.readUInt16BE(2);
  if ((flags & QR) !== 0) return { kind: 'drop', reason: 'response' };
  const recursionDesired = (flags & RD) !== 0;
  const formerr = (reason: string, question?: Question): ParseError => ({
    kind: 'error',
    id,
    rcode: 'FORMERR',
    reason,
    recursionDesired,
    ...(question === undefined ? {} : { question }),
  });

  const opcode = (flags >> OPCODE_SHIFT) & 0xf;
  if (opcode !== 0) {
    const reason = `opcode ${opcode} not implemented, only QUERY (0)`;
    return { kind: 'error', id, rcode: 'NOTIMP', reason, recursionDesired, opcode };
  }
  const qdcount = view.readUInt16BE(4);
  if (qdcount !== 1) return formerr(`question count ${qdcount}, expected exactly 1`);

  const name = readName(view, HEADER_LENGTH);
  if (!name.ok) return formerr(name.reason);
  if (name.end + 4 > view.length) return formerr(`question truncated: type and class need 4 octets`);
  const question: Question = {
    name: lowerName(name.name),
    type: typeName(view.readUInt16BE(name.end)),
    class: className(view.readUInt16BE(name.end + 2)),
    wireName: name.name,
  };

  // dns-packet walks the remaining sections; anything it cannot decode is malformed.
  let decoded: dnsPacket.DecodedPacket;
  try {
    decoded = dnsPacket.decode(view);
  } catch (e: unknown) {
    return formerr(`undecodable packet: ${e instanceof Error ? e.message : String(e)}`, question);
  }
  const opts = (decoded.additionals ?? []).filter((r) => r.type === 'OPT');
  if (opts.length > 1) {
    return formerr(`${opts.length} OPT records, at most 1 allowed (RFC 6891 §6.1.1)`, question);
  }
  const opt = opts[0];
  if (opt !== undefined && opt.name !== '.') {
    return formerr('OPT owner name must be root (RFC 6891 §6.1.2)', question);
  }
  const edns = opt === undefined ? undefined : { udpSize: opt.udpPayloadSize, do: opt.flag_do };
  return { kind: 'query', query: { id, question, recursionDesired, edns } };
}

/**
 * Response size limit for a UDP query: min(our maxUdpSize, the client's EDNS size), both at least 512
 * (RFC 1035 §4.2.1, RFC 6891 §6.2.5). TCP callers use `MAX_MESSAGE_SIZE` instead.
 */
export function udpResponseLimit(query: Query | undefined, maxUdpSize: number): number {
  const ours = Math.max(MIN_UDP_SIZE, maxUdpSize);
  const theirs = Math.max(MIN_UDP_SIZE, query?.edns?.udpSize ?? MIN_UDP_SIZE);
  return Math.min(ours, theirs, MAX_MESSAGE_SIZE);
}

/**
 * Encodes the response to `req`: same ID, QR=1, AA from `answer`, RD copied, RA=0, the question echoed (as the
 * client spelled it), and an OPT advertising `ednsUdpSize` (DO copied, RFC 3225 §3) when the query had EDNS.
 *
 * If the full message exceeds `maxSize` (raised to at least 512), returns header + question (+OPT) with TC=1
 * and no answer or authority records (RFC 1035 §4.2.1, RFC 2181 §9). For a ParseError the opcode is copied and
 * the question echoed only if it was readable.
 * @throws InvalidRecordError when a record in `answer` cannot be encoded.
 */
export function encodeAnswer(
  req: Query | ParseError,
  answer: Answer,
  maxSize: number,
  ednsUdpSize: number = DEFAULT_EDNS_UDP_SIZE,
): Uint8Array {
  const isError = 'kind' in req;
  const question = req.question === undefined ? undefined : encodeQuestion(req.question);
  const qname = question?.subarray(0, question.length - 4);
  const opt = !isError && req.edns !== undefined ? encodeOpt(ednsUdpSize, req.edns.do) : undefined;
  const answers = answer.answers.map((rr) => encodeRecord(rr, qname));
  const authorities = (answer.authorities ?? []).map((rr) => encodeRecord(rr, qname));
  const opcode = isError ? (req.opcode ?? 0) : 0;
  const flags =
    QR |
    ((opcode & 0xf) << OPCODE_SHIFT) |
    (answer.authoritative ? AA : 0) |
    (req.recursionDesired ? RD : 0) |
    RCODES[answer.rcode];
  const full = { id: req.id, flags, question, answers, authorities, additionals: opt ? [opt] : [] };
  const limit = Math.min(Math.max(MIN_UDP_SIZE, maxSize), MAX_MESSAGE_SIZE);
  if (messageLength(full) <= limit) return writeMessage(full);
  return writeMessage({ ...full, flags: flags | TC, answers: [], authorities: [] });
}

/** FORMERR/NOTIMP response for a packet `parseQuery` rejected; always fits 512 octets. */
export function encodeParseError(err: ParseError): Uint8Array {
  return encodeAnswer(err, { rcode: err.rcode, answers: [], authoritative: false }, MIN_UDP_SIZE);
}

/** What `encodeQuery` sends. */
export interface QuerySpec {
  id: number;
  /** Presentation form; escapes allowed. */
  name: string;
  /** Mnemonic ('A', 'HTTPS') or 'UNKNOWN_<n>'. */
  type: string;
  /** Default 'IN'. */
  class?: string;
  /** Default true, as stub resolvers send. */
  recursionDesired?: boolean;
  /** Adds an OPT record advertising `udpSize`. */
  edns?: { udpSize: number; do?: boolean };
}

/**
 * Encodes a standard query (clients and tests).
 * @throws Error for an unknown type or class mnemonic or an unencodable name.
 */
export function encodeQuery(spec: QuerySpec): Uint8Array {
  const question = encodeQuestion({ name: spec.name, type: spec.type, class: spec.class ?? 'IN' });
  const flags = (spec.recursionDesired ?? true) ? RD : 0;
  const additionals = spec.edns ? [encodeOpt(spec.edns.udpSize, spec.edns.do ?? false)] : [];
  return writeMessage({ id: spec.id, flags, question, answers: [], authorities: [], additionals });
}

function encodeQuestion(q: Question): Uint8Array {
  const type = typeCode(q.type);
  const klass = classCode(q.class);
  if (type === undefined) {
    throw new Error(`DNS question type ${JSON.stringify(q.type)} is not a known mnemonic`);
  }
  if (klass === undefined)
    throw new Error(`DNS question class ${JSON.stringify(q.class)} is not a known mnemonic`);
  const name = encodeName(q.wireName ?? q.name);
  const out = Buffer.alloc(name.length + 4);
  out.set(name, 0);
  out.writeUInt16BE(type, name.length);
  out.writeUInt16BE(klass, name.length + 2);
  return out;
}

// OPT pseudo-record (RFC 6891 §6.1.2): root owner, TYPE 41, CLASS = UDP payload size, TTL = extended RCODE(8)
// | version(8) | DO(1) | Z(15), RDLENGTH 0. Our rcodes all fit the header, so extended RCODE and version are 0.
function encodeOpt(udpSize: number, dnssecOk: boolean): Uint8Array {
  const out = Buffer.alloc(11);
  out.writeUInt16BE(TYPE_OPT, 1);
  out.writeUInt16BE(Math.min(Math.max(MIN_UDP_SIZE, udpSize), MAX_MESSAGE_SIZE), 3);
  out.writeUInt16BE(dnssecOk ? EDNS_DO : 0, 7);
  return out;
}

interface Message {
  id: number;
  flags: number;
  question: Uint8Array | undefined;
  answers: Uint8Array[];
  authorities: Uint8Array[];
  additionals: Uint8Array[];
}

function messageLength(m: Message): number {
  const sum = (parts: Uint8Array[]): number => parts.reduce((n, p) => n + p.length, 0);
  return HEADER_LENGTH + (m.question?.length ?? 0) + sum(m.answers) + sum(m.authorities) + sum(m.additionals);
}

// The question must come right after the header: record owners may point at offset 12.
function writeMessage(m: Message): Uint8Array {
  const out = Buffer.alloc(messageLength(m));
  out.writeUInt16BE(m.id, 0);
  out.writeUInt16BE(m.flags, 2);
  out.writeUInt16BE(m.question ? 1 : 0, 4);
  out.writeUInt16BE(m.answers.length, 6);
  out.writeUInt16BE(m.authorities.length, 8);
  out.writeUInt16BE(m.additionals.length, 10);
  let at = HEADER_LENGTH;
  for (const part of [
    ...(m.question ? [m.question] : []),
    ...m.answers,
    ...m.authorities,
    ...m.additionals,
  ]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
