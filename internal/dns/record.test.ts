import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { encodeName } from './name.js';
import { encodeRecord, InvalidRecordError } from './record.js';
import type { ResourceRecord } from './types.js';

// Wraps one encoded record in a response whose question is `qname`, so pointers to offset 12 resolve.
function decodeRecord(rr: ResourceRecord, qname = 'q.example'): dnsPacket.Answer {
  const question = encodeName(qname);
  const header = Buffer.from([0, 1, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0]);
  const bytes = Buffer.concat([header, question, Buffer.from([0, 1, 0, 1]), encodeRecord(rr, question)]);
  const answer = dnsPacket.decode(bytes).answers?.[0];
  assert.ok(answer, 'no answer decoded');
  return answer;
}

describe('encodeRecord', () => {
  const cases: Array<{ name: string; rr: ResourceRecord; data: unknown }> = [
    { name: 'A', rr: { name: 'a.example', type: 'A', ttl: 30, data: '192.0.2.1' }, data: '192.0.2.1' },
    {
      name: 'AAAA',
      rr: { name: 'a.example', type: 'AAAA', ttl: 30, data: '2001:db8::1' },
      data: '2001:db8::1',
    },
    {
      name: 'CNAME',
      rr: { name: 'a.example', type: 'CNAME', ttl: 30, data: 'b.example.' },
      data: 'b.example',
    },
    { name: 'NS', rr: { name: 'example', type: 'NS', ttl: 30, data: 'ns1.example' }, data: 'ns1.example' },
    {
      name: 'SOA',
      rr: {
        name: 'example',
        type: 'SOA',
        ttl: 60,
        data: {
          mname: 'ns1.example',
          rname: 'hostmaster.example',
          serial: 7,
          refresh: 1,
          retry: 2,
          expire: 3,
          minimum: 4,
        },
      },
      data: {
        mname: 'ns1.example',
        rname: 'hostmaster.example',
        serial: 7,
        refresh: 1,
        retry: 2,
        expire: 3,
        minimum: 4,
      },
    },
    {
      name: 'TXT parts',
      rr: { name: 'a.example', type: 'TXT', ttl: 0, data: ['v=1', Uint8Array.of(1, 2)] },
      data: [Buffer.from('v=1'), Buffer.from([1, 2])],
    },
  ];
  for (const c of cases) {
    it(`${c.name} decodes back with dns-packet`, () => {
      const a = decodeRecord(c.rr);
      assert.deepEqual(
        {
          name: a.name,
          type: a.type,
          ttl: 'ttl' in a ? a.ttl : undefined,
          data: 'data' in a ? a.data : undefined,
        },
        { name: c.rr.name.replace(/\.$/, ''), type: c.rr.type, ttl: c.rr.ttl, data: c.data },
      );
    });
  }

  it('points the owner at the question when they match ignoring case', () => {
    const question = encodeName('App.Example');
    const bytes = encodeRecord({ name: 'app.example.', type: 'A', ttl: 5, data: '192.0.2.1' }, question);
    assert.deepEqual([...bytes.subarray(0, 2)], [0xc0, 0x0c]);
    assert.equal(bytes.length, 2 + 10 + 4);
  });

  it('writes other owners in full', () => {
    const bytes = encodeRecord(
      { name: 'other.example', type: 'A', ttl: 5, data: '192.0.2.1' },
      encodeName('q.example'),
    );
    assert.deepEqual([...bytes.subarray(0, 15)], [...encodeName('other.example')]);
  });

  it('does not mutate TXT data (dns-packet rewrites arrays in place)', () => {
    const data = ['a', 'b'];
    encodeRecord({ name: 'a.example', type: 'TXT', ttl: 1, data }, undefined);
    assert.deepEqual(data, ['a', 'b']);
  });

  const invalid: Array<{ name: string; rr: ResourceRecord; message: RegExp }> = [
    {
      name: 'A with IPv6',
      rr: { name: 'a', type: 'A', ttl: 1, data: '::1' },
      message: /A record "a": data "::1" is not an IPv4/,
    },
    {
      name: 'AAAA with number',
      rr: { name: 'a', type: 'AAAA', ttl: 1, data: 5 },
      message: /data 5 is not an IPv6/,
    },
    {
      name: 'negative TTL',
      rr: { name: 'a', type: 'A', ttl: -1, data: '192.0.2.1' },
      message: /ttl -1 is not an integer in 0\.\.2147483647/,
    },
    {
      name: 'TTL with top bit',
      rr: { name: 'a', type: 'A', ttl: 2 ** 31, data: '192.0.2.1' },
      message: /ttl 2147483648/,
    },
    {
      name: 'bad owner',
      rr: { name: 'a..b', type: 'A', ttl: 1, data: '192.0.2.1' },
      message: /bad owner name: .*empty label/,
    },
    {
      name: 'CNAME escape',
      rr: { name: 'a', type: 'CNAME', ttl: 1, data: 'x\\.y' },
      message: /uses escapes/,
    },
    {
      name: 'SOA missing rname',
      rr: { name: 'a', type: 'SOA', ttl: 1, data: { mname: 'ns' } },
      message: /rname undefined is not a name/,
    },
    {
      name: 'SOA serial over 32 bits',
      rr: { name: 'a', type: 'SOA', ttl: 1, data: { mname: 'ns', rname: 'h', serial: 2 ** 32 } },
      message: /SOA serial 4294967296 is not an integer in 0\.\.4294967295/,
    },
    {
      name: 'TXT too long',
      rr: { name: 'a', type: 'TXT', ttl: 1, data: 'x'.repeat(256) },
      message: /TXT part 0 is 256 octets, over 255/,
    },
    {
      name: 'TXT empty',
      rr: { name: 'a', type: 'TXT', ttl: 1, data: [] },
      message: /at least one character-string/,
    },
    {
      name: 'unsupported type',
      rr: { name: 'a', type: 'MX' as ResourceRecord['type'], ttl: 1, data: {} },
      message: /MX record "a": unsupported type/,
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      assert.throws(
        () => encodeRecord(c.rr, undefined),
        (e: unknown) =>
          e instanceof InvalidRecordError && e.code === 'DNS_INVALID_RECORD' && c.message.test(e.message),
      );
    });
  }
});
