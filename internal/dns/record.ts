import { isIPv4, isIPv6 } from 'node:net';
import dnsPacket from 'dns-packet';
import { encodeName, sameWireName } from './name.js';
import { typeCode } from './rr-type.js';
import type { ResourceRecord } from './types.js';

/**
 * A record from the policy cannot be encoded (wrong data shape, bad name, TTL out of range). This is a bug in
 * the caller; the server answers SERVFAIL and logs it.
 */
export class InvalidRecordError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'DNS_INVALID_RECORD';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidRecordError';
  }
}

// dns-packet exports its per-type RDATA codecs (index.js `exports.record`), which @types/dns-packet omits. Each
// `encode` returns RDLENGTH followed by RDATA.
interface RdataCodecs {
  record(type: string): { encode(data: unknown): Buffer };
}
const codecs = dnsPacket as unknown as RdataCodecs;

const CLASS_IN = 1;
/** Largest TTL (RFC 2181 §8): the top bit must be clear. */
const MAX_TTL = 0x7fffffff;
const MAX_U32 = 0xffffffff;
const MAX_CHARACTER_STRING = 255;
/** Pointer to the question name, which always starts right after the 12-byte header (RFC 1035 §4.1.4). */
const QUESTION_NAME_POINTER = Uint8Array.of(0xc0, 0x0c);

/**
 * Encodes one IN-class record. When `questionName` (wire form) is given and the owner equals it ignoring case,
 * the owner is written as a compression pointer to the question, the common case for GSLB answers.
 * @throws InvalidRecordError naming the record and the offending value.
 */
export function encodeRecord(rr: ResourceRecord, questionName: Uint8Array | undefined): Uint8Array {
  const owner = wireName(rr, rr.name, 'owner name');
  const ownerBytes = questionName && sameWireName(owner, questionName) ? QUESTION_NAME_POINTER : owner;
  if (!Number.isInteger(rr.ttl) || rr.ttl < 0 || rr.ttl > MAX_TTL) {
    throw invalid(rr, `ttl ${rr.ttl} is not an integer in 0..${MAX_TTL}`);
  }
  const code = typeCode(rr.type);
  if (code === undefined) throw invalid(rr, `unknown type ${JSON.stringify(rr.type)}`);
  const rdata = encodeRdata(rr);
  // Layout (RFC 1035 §4.1.3): NAME, TYPE(2), CLASS(2), TTL(4), then RDLENGTH(2)+RDATA from dns-packet.
  const out = Buffer.alloc(ownerBytes.length + 8 + rdata.length);
  out.set(ownerBytes, 0);
  let at = ownerBytes.length;
  at = out.writeUInt16BE(code, at);
  at = out.writeUInt16BE(CLASS_IN, at);
  at = out.writeUInt32BE(rr.ttl, at);
  out.set(rdata, at);
  return out;
}

function encodeRdata(rr: ResourceRecord): Buffer {
  const data = shapeData(rr);
  try {
    return codecs.record(rr.type).encode(data);
  } catch (e: unknown) {
    throw invalid(rr, `dns-packet cannot encode data ${safeJson(rr.data)}`, e);
  }
}

// Validates `rr.data` and returns a fresh value for dns-packet (its TXT encoder rewrites the array it is given).
function shapeData(rr: ResourceRecord): unknown {
  const d = rr.data;
  switch (rr.type) {
    case 'A':
      if (typeof d !== 'string' || !isIPv4(d))
        throw invalid(rr, `data ${safeJson(d)} is not an IPv4 address`);
      return d;
    case 'AAAA':
      if (typeof d !== 'string' || !isIPv6(d))
        throw invalid(rr, `data ${safeJson(d)} is not an IPv6 address`);
      return d;
    case 'NS':
    case 'CNAME':
      return rdataName(rr, d, 'data');
    case 'SOA':
      return shapeSoa(rr, d);
    case 'TXT':
      return shapeTxt(rr, d);
    default:
      throw invalid(rr, 'unsupported type; the policy may answer A, AAAA, SOA, NS, CNAME or TXT');
  }
}

function shapeSoa(rr: ResourceRecord, d: unknown): object {
  if (typeof d !== 'object' || d === null) throw invalid(rr, `data ${safeJson(d)} is not an SOA object`);
  const soa = d as Record<string, unknown>;
  const out: Record<string, unknown> = {
    mname: rdataName(rr, soa['mname'], 'mname'),
    rname: rdataName(rr, soa['rname'], 'rname'),
  };
  for (const field of ['serial', 'refresh', 'retry', 'expire', 'minimum']) {
    const v = soa[field] ?? 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_U32) {
      throw invalid(rr, `SOA ${field} ${safeJson(v)} is not an integer in 0..${MAX_U32}`);
    }
    out[field] = v;
  }
  return out;
}

function shapeTxt(rr: ResourceRecord, d: unknown): Buffer[] {
  const parts = Array.isArray(d) ? d : [d];
  if (parts.length === 0) throw invalid(rr, 'TXT needs at least one character-string (RFC 1035 §3.3.14)');
  return parts.map((p: unknown, i) => {
    let b: Buffer;
    if (typeof p === 'string') b = Buffer.from(p, 'utf8');
    else if (p instanceof Uint8Array) b = Buffer.from(p);
    else throw invalid(rr, `TXT part ${i} ${safeJson(p)} is neither a string nor bytes`);
    if (b.length > MAX_CHARACTER_STRING) {
      throw invalid(rr, `TXT part ${i} is ${b.length} octets, over ${MAX_CHARACTER_STRING}`);
    }
    return b;
  });
}

// dns-packet encodes names in RDATA itself and does not understand presentation escapes, so refuse them.
function rdataName(rr: ResourceRecord, v: unknown, field: string): string {
  if (typeof v !== 'string') throw invalid(rr, `${field} ${safeJson(v)} is not a name`);
  if (v.includes('\\')) throw invalid(rr, `${field} ${JSON.stringify(v)} uses escapes, unsupported in RDATA`);
  wireName(rr, v, field);
  return v;
}

function wireName(rr: ResourceRecord, name: unknown, field: string): Uint8Array {
  if (typeof name !== 'string') throw invalid(rr, `${field} ${safeJson(name)} is not a string`);
  try {
    return encodeName(name);
  } catch (e: unknown) {
    throw invalid(rr, `bad ${field}`, e);
  }
}

function invalid(rr: ResourceRecord, why: string, cause?: unknown): InvalidRecordError {
  const what = `${String(rr.type)} record ${safeJson(rr.name)}`;
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new InvalidRecordError(`${what}: ${why}${detail}`, cause === undefined ? undefined : { cause });
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch (e: unknown) {
    // Cyclic or BigInt data: a rough rendering is enough for an error message.
    return `${String(v)} (${e instanceof Error ? e.message : 'unserialisable'})`;
  }
}
