import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import type { Answer, ParseError, ParseOutcome, Query, ResourceRecord } from './types.js';
import {
  encodeAnswer,
  encodeParseError,
  encodeQuery,
  MAX_MESSAGE_SIZE,
  parseQuery,
  type QuerySpec,
  udpResponseLimit,
} from './wire.js';

const query = (spec: Partial<QuerySpec> = {}): Buffer =>
  Buffer.from(encodeQuery({ id: 0x1234, name: 'App.Example.COM', type: 'A', ...spec }));

/** Copy of `buf` with the 16-bit word at `offset` replaced. */
function patch16(buf: Uint8Array, offset: number, value: number): Buffer {
  const out = Buffer.from(buf);
  out.writeUInt16BE(value, offset);
  return out;
}

const OPT_4096_DO = Buffer.from([0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 0]);
const withTwoOpts = (): Buffer => patch16(Buffer.concat([query(), OPT_4096_DO, OPT_4096_DO]), 10, 2);

const appQuestion = { name: 'app.example.com', type: 'A', class: 'IN', wireName: 'App.Example.COM' };

describe('parseQuery', () => {
  const cases: Array<{ name: string; bytes: Uint8Array; want: ParseOutcome }> = [
    {
      name: 'A query',
      bytes: query(),
      want: {
        kind: 'query',
        query: { id: 0x1234, question: appQuestion, recursionDesired: true, edns: undefined },
      },
    },
    {
      name: 'AAAA query without RD',
      bytes: query({ type: 'AAAA', recursionDesired: false }),
      want: {
        kind: 'query',
        query: {
          id: 0x1234,
          question: { ...appQuestion, type: 'AAAA' },
          recursionDesired: false,
          edns: undefined,
        },
      },
    },
    {
      name: 'HTTPS (65) query',
      bytes: query({ type: 'UNKNOWN_65' }),
      want: {
        kind: 'query',
        query: {
          id: 0x1234,
          question: { ...appQuestion, type: 'HTTPS' },
          recursionDesired: true,
          edns: undefined,
        },
      },
    },
    {
      name: 'unknown type number, class CH reported',
      bytes: query({ type: 'UNKNOWN_4242', class: 'CH' }),
      want: {
        kind: 'query',
        query: {
          id: 0x1234,
          question: { ...appQuestion, type: 'UNKNOWN_4242', class: 'CH' },
          recursionDesired: true,
          edns: undefined,
        },
      },
    },
    {
      name: 'EDNS query',
      bytes: query({ edns: { udpSize: 4096, do: true } }),
      want: {
        kind: 'query',
        query: {
          id: 0x1234,
          question: appQuestion,
          recursionDesired: true,
          edns: { udpSize: 4096, do: true },
        },
      },
    },
    { name: 'empty packet dropped', bytes: new Uint8Array(0), want: { kind: 'drop', reason: 'short' } },
    { name: '11 bytes dropped', bytes: query().subarray(0, 11), want: { kind: 'drop', reason: 'short' } },
    { name: 'QR=1 dropped', bytes: patch16(query(), 2, 0x8100), want: { kind: 'drop', reason: 'response' } },
    {
      name: 'opcode 2 (STATUS) is NOTIMP',
      bytes: patch16(query(), 2, (2 << 11) | 0x0100),
      want: {
        kind: 'error',
        id: 0x1234,
        rcode: 'NOTIMP',
        reason: 'opcode 2 not implemented, only QUERY (0)',
        recursionDesired: true,
        opcode: 2,
      },
    },
    {
      name: 'qdcount 0 is FORMERR',
      bytes: patch16(query(), 4, 0),
      want: {
        kind: 'error',
        id: 0x1234,
        rcode: 'FORMERR',
        reason: 'question count 0, expected exactly 1',
        recursionDesired: true,
      },
    },
    {
      name: 'qdcount 2 is FORMERR',
      bytes: patch16(query(), 4, 2),
      want: {
        kind: 'error',
        id: 0x1234,
        rcode: 'FORMERR',
        reason: 'question count 2, expected exactly 1',
        recursionDesired: true,
      },
    },
    {
      name: 'truncated question name is FORMERR, ID kept',
      bytes: query().subarray(0, 17),
      want: {
        kind: 'error',
        id: 0x1234,
        rcode: 'FORMERR',
        reason: 'label of 7 octets at offset 16 runs past end of packet',
        recursionDesired: true,
      },
    },
    {
      name: 'question without type/class is FORMERR',
      bytes: query().subarray(0, query().length - 2),
      want: {
        kind: 'error',
        id: 0x1234,
        rcode: 'FORMERR',
        reason: 'question truncated: type and class need 4 octets',
        recursionDesired: true,
      },
    },
    {
      name: 'two OPT records are FORMERR, question echoed',
      bytes: withTwoOpts(),
      want: {
        kind: 'error',
        id: 0x1234,
        rcode: 'FORMERR',
        reason: '2 OPT records, at most 1 allowed (RFC 6891 §6.1.1)',
        recursionDesired: true,
        question: appQuestion,
      },
    },
    {
      name: 'undecodable answer section is FORMERR, question echoed',
      bytes: patch16(Buffer.concat([query(), Buffer.from([0xc0])]), 6, 1),
      want: {
        kind: 'error',
        id: 0x1234,
        rcode: 'FORMERR',
        reason: 'undecodable packet: Cannot decode name (buffer overflow)',
        recursionDesired: true,
        question: appQuestion,
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(parseQuery(c.bytes), c.want));
  }

  it('never throws on random bytes or mutated queries (seeded)', () => {
    const seed = 0x5eed_d05;
    const rand = mulberry32(seed);
    const base = query({ edns: { udpSize: 1232 } });
    const seen = { query: 0, error: 0, drop: 0 };
    for (let i = 0; i < 2000; i++) {
      let bytes: Buffer;
      if (i % 2 === 0) {
        bytes = Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256)));
      } else {
        // Mutate a valid EDNS query past the header (QR=0, opcode 0) so parsing gets deep.
        bytes = Buffer.from(base);
        const flips = Math.floor(rand() * 3);
        for (let f = 0; f < flips; f++) bytes[12 + Math.floor(rand() * (bytes.length - 12))] = rand() * 256;
        bytes[3] = rand() * 256;
        if (rand() < 0.3) bytes = bytes.subarray(0, Math.floor(rand() * bytes.length));
      }
      const context = `seed ${seed} iteration ${i} bytes ${bytes.toString('hex')}`;
      try {
        const kind = checkTotal(bytes);
        seen[kind]++;
      } catch (e: unknown) {
        assert.fail(`${context}: ${e instanceof Error ? e.stack : String(e)}`);
      }
    }
    // The corpus must exercise every outcome, or the property above says little.
    assert.ok(
      seen.query > 100 && seen.error > 100 && seen.drop > 100,
      `seed ${seed}: ${JSON.stringify(seen)}`,
    );
  });
});

// parseQuery must not throw; whatever it accepts must encode, and the echoed question must be byte-identical.
function checkTotal(bytes: Buffer): ParseOutcome['kind'] {
  const out = parseQuery(bytes);
  if (out.kind === 'error') dnsPacket.decode(Buffer.from(encodeParseError(out)));
  if (out.kind !== 'query') return out.kind;
  const reply = Buffer.from(
    encodeAnswer(out.query, { rcode: 'NOERROR', answers: [], authoritative: true }, 512),
  );
  dnsPacket.decode(reply);
  const questionEnd = reply.length - (out.query.edns ? 11 : 0);
  assert.deepEqual(reply.subarray(12, questionEnd), bytes.subarray(12, questionEnd), 'question echo');
  return out.kind;
}

/** Small seeded PRNG (mulberry32); the seed is printed on failure. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function parsed(bytes: Uint8Array): Query {
  const out = parseQuery(bytes);
  assert.equal(out.kind, 'query', `expected a query, got ${JSON.stringify(out)}`);
  return (out as { query: Query }).query;
}

const aRecords = (n: number): ResourceRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    name: 'app.example.com',
    type: 'A',
    ttl: 30,
    data: `192.0.2.${i % 250}`,
  }));
const answerWith = (records: ResourceRecord[], extra: Partial<Answer> = {}): Answer => ({
  rcode: 'NOERROR',
  answers: records,
  authoritative: true,
  ...extra,
});

describe('encodeAnswer', () => {
  it('sets header fields and echoes the question as sent', () => {
    const q = parsed(query({ id: 0xbeef, recursionDesired: true }));
    const reply = dnsPacket.decode(Buffer.from(encodeAnswer(q, answerWith(aRecords(1)), 512)));
    assert.deepEqual(
      {
        id: reply.id,
        qr: reply.flag_qr,
        aa: reply.flag_aa,
        tc: reply.flag_tc,
        rd: reply.flag_rd,
        ra: reply.flag_ra,
        flags: reply.flags,
        questions: reply.questions,
        answers: reply.answers?.map((a) => ('data' in a ? a.data : undefined)),
        additionals: reply.additionals?.length,
      },
      {
        id: 0xbeef,
        qr: true,
        aa: true,
        tc: false,
        rd: true,
        ra: false,
        flags: 0x0500, // AA|RD, opcode 0, rcode 0
        questions: [{ name: 'App.Example.COM', type: 'A', class: 'IN' }],
        answers: ['192.0.2.0'],
        additionals: 0,
      },
    );
  });

  it('sets the rcode and authority section', () => {
    const soa: ResourceRecord = {
      name: 'example.com',
      type: 'SOA',
      ttl: 60,
      data: { mname: 'ns1.example.com', rname: 'h.example.com' },
    };
    const q = parsed(query());
    const reply = dnsPacket.decode(
      Buffer.from(encodeAnswer(q, answerWith([], { rcode: 'NXDOMAIN', authorities: [soa] }), 512)),
    );
    assert.deepEqual([(reply.flags ?? 0) & 0xf, reply.authorities?.[0]?.type], [3, 'SOA']);
  });

  it('answers EDNS with an OPT carrying our UDP size and the DO bit', () => {
    const q = parsed(query({ edns: { udpSize: 4096, do: true } }));
    const reply = dnsPacket.decode(Buffer.from(encodeAnswer(q, answerWith([]), 4096, 1232)));
    const opt = reply.additionals?.[0];
    assert.ok(opt?.type === 'OPT', `expected OPT, got ${JSON.stringify(reply.additionals)}`);
    assert.deepEqual(
      [opt.udpPayloadSize, opt.flag_do, opt.ednsVersion, opt.extendedRcode],
      [1232, true, 0, 0],
    );
  });

  it('truncates over UDP 512: TC, question and OPT kept, no records', () => {
    const q = parsed(query({ edns: { udpSize: 512 } }));
    const bytes = encodeAnswer(q, answerWith(aRecords(40)), udpResponseLimit(q, 1232));
    const reply = dnsPacket.decode(Buffer.from(bytes));
    assert.deepEqual(
      [reply.flag_tc, reply.answers?.length, reply.questions?.length, reply.additionals?.[0]?.type],
      [true, 0, 1, 'OPT'],
    );
    assert.ok(bytes.length <= 512, `${bytes.length} octets over 512`);
  });

  it('does not truncate the same answer over TCP', () => {
    const q = parsed(query());
    const reply = dnsPacket.decode(Buffer.from(encodeAnswer(q, answerWith(aRecords(40)), MAX_MESSAGE_SIZE)));
    assert.deepEqual([reply.flag_tc, reply.answers?.length], [false, 40]);
  });

  it('fits up to the EDNS limit without truncating', () => {
    const q = parsed(query({ edns: { udpSize: 4096 } }));
    const bytes = encodeAnswer(q, answerWith(aRecords(40)), udpResponseLimit(q, 1232));
    assert.deepEqual([dnsPacket.decode(Buffer.from(bytes)).flag_tc, bytes.length > 512], [false, true]);
  });

  it('compresses owners equal to the question (one pointer per record)', () => {
    const q = parsed(query());
    const one = encodeAnswer(q, answerWith(aRecords(1)), 512).length;
    const two = encodeAnswer(q, answerWith(aRecords(2)), 512).length;
    assert.equal(two - one, 2 + 10 + 4);
  });
});

describe('encodeParseError', () => {
  const errorOf = (bytes: Uint8Array): ParseError => {
    const out = parseQuery(bytes);
    assert.equal(out.kind, 'error');
    return out as ParseError;
  };

  it('FORMERR without a readable question: header only, ID kept', () => {
    const bytes = Buffer.from(encodeParseError(errorOf(query().subarray(0, 17))));
    assert.deepEqual([...bytes], [0x12, 0x34, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('NOTIMP copies the opcode', () => {
    const bytes = Buffer.from(encodeParseError(errorOf(patch16(query(), 2, 5 << 11))));
    assert.deepEqual(
      [bytes.readUInt16BE(0), bytes.readUInt16BE(2), bytes.length],
      [0x1234, 0x8000 | (5 << 11) | 4, 12],
    );
  });

  it('FORMERR echoes a readable question', () => {
    const reply = dnsPacket.decode(Buffer.from(encodeParseError(errorOf(withTwoOpts()))));
    assert.deepEqual([(reply.flags ?? 0) & 0xf, reply.questions?.[0]?.name], [1, 'App.Example.COM']);
  });
});

describe('udpResponseLimit', () => {
  const q = (udpSize?: number): Query => ({
    id: 1,
    question: { name: 'a', type: 'A', class: 'IN' },
    recursionDesired: false,
    edns: udpSize === undefined ? undefined : { udpSize, do: false },
  });
  const cases: Array<{ name: string; query: Query | undefined; max: number; want: number }> = [
    { name: 'no EDNS', query: q(), max: 1232, want: 512 },
    { name: 'no query at all', query: undefined, max: 1232, want: 512 },
    { name: 'client larger than ours', query: q(4096), max: 1232, want: 1232 },
    { name: 'client smaller than ours', query: q(1000), max: 1232, want: 1000 },
    { name: 'client below 512 counts as 512', query: q(100), max: 1232, want: 512 },
    { name: 'ours below 512 counts as 512', query: q(4096), max: 100, want: 512 },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(udpResponseLimit(c.query, c.max), c.want));
  }
});
