import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { classCode, className, typeCode, typeName } from './rr-type.js';

// A query for '.' whose type and class bytes are patched per case, decoded by dns-packet as the reference.
function dnsPacketQuestion(type: number, klass: number): { type: string; class: string } {
  const buf = Buffer.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  buf.writeUInt16BE(type, 13);
  buf.writeUInt16BE(klass, 15);
  const q = dnsPacket.decode(buf).questions?.[0];
  assert.ok(q, 'dns-packet decoded no question');
  return { type: q.type, class: String(q.class) };
}

describe('typeName', () => {
  it('matches dns-packet for every code except SVCB/HTTPS, which dns-packet lacks', () => {
    const mismatches: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const want = code === 64 ? 'SVCB' : code === 65 ? 'HTTPS' : dnsPacketQuestion(code, 1).type;
      if (typeName(code) !== want) mismatches.push(`${code}: got ${typeName(code)}, dns-packet ${want}`);
    }
    assert.deepEqual(mismatches, []);
  });

  const cases: Array<{ name: string; code: number; want: string }> = [
    { name: 'A', code: 1, want: 'A' },
    { name: 'AAAA', code: 28, want: 'AAAA' },
    { name: 'HTTPS', code: 65, want: 'HTTPS' },
    { name: 'unassigned', code: 4242, want: 'UNKNOWN_4242' },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.code} <-> ${c.want}`, () => {
      assert.equal(typeName(c.code), c.want);
      assert.equal(typeCode(c.want), c.code);
    });
  }
});

describe('typeCode', () => {
  const cases: Array<{ name: string; input: string; want: number | undefined }> = [
    { name: 'case-insensitive', input: 'https', want: 65 },
    { name: 'unknown form', input: 'unknown_99', want: 99 },
    { name: 'unknown form beyond 16 bits', input: 'UNKNOWN_65536', want: undefined },
    { name: 'not a mnemonic', input: 'FOO', want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(typeCode(c.input), c.want, `typeCode(${JSON.stringify(c.input)})`));
  }
});

describe('className', () => {
  it('matches dns-packet for every code', () => {
    const mismatches: string[] = [];
    for (let code = 0; code <= 0xffff; code++) {
      const want = dnsPacketQuestion(1, code).class;
      if (className(code) !== want) mismatches.push(`${code}: got ${className(code)}, dns-packet ${want}`);
    }
    assert.deepEqual(mismatches, []);
  });

  it('round-trips IN, CH and UNKNOWN_n', () => {
    assert.deepEqual(
      ['IN', 'CH', 'UNKNOWN_254'].map((n) => className(classCode(n) ?? -1)),
      ['IN', 'CH', 'UNKNOWN_254'],
    );
  });
});
