import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeName, lowerName, readName, sameWireName } from './name.js';

const wire = (...labels: Array<string | number[]>): Uint8Array => {
  const parts: number[] = [];
  for (const l of labels) {
    const bytes = typeof l === 'string' ? [...Buffer.from(l, 'latin1')] : l;
    parts.push(bytes.length, ...bytes);
  }
  return Uint8Array.from([...parts, 0]);
};

describe('readName', () => {
  const ok: Array<{ name: string; bytes: Uint8Array; want: string }> = [
    { name: 'root', bytes: wire(), want: '' },
    { name: 'case preserved', bytes: wire('App', 'Example', 'COM'), want: 'App.Example.COM' },
    { name: 'dot and backslash escaped', bytes: wire('a.b', 'c\\d'), want: 'a\\.b.c\\\\d' },
    { name: 'space and non-ASCII as \\DDD', bytes: wire([0x20, 0x41, 0xff, 0x00]), want: '\\032A\\255\\000' },
  ];
  for (const c of ok) {
    it(c.name, () => {
      assert.deepEqual(readName(c.bytes, 0), { ok: true, name: c.want, end: c.bytes.length });
    });
  }

  const bad: Array<{ name: string; bytes: Uint8Array; reason: RegExp }> = [
    { name: 'empty buffer', bytes: new Uint8Array(0), reason: /runs past end/ },
    {
      name: 'label past end',
      bytes: Uint8Array.of(5, 0x61, 0x62),
      reason: /label of 5 octets at offset 0 runs past end/,
    },
    { name: 'no root label', bytes: Uint8Array.of(1, 0x61), reason: /runs past end/ },
    { name: 'compression pointer', bytes: Uint8Array.of(0xc0, 0x0c), reason: /compression pointer 0xc0/ },
    { name: 'reserved label type', bytes: Uint8Array.of(0x40, 0), reason: /reserved label type 0x40/ },
    {
      name: 'over 255 octets',
      bytes: wire(...Array.from({ length: 5 }, () => 'x'.repeat(63))),
      reason: /longer than 255 octets/,
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => {
      const got = readName(c.bytes, 0);
      assert.equal(got.ok, false, `expected failure, got ${JSON.stringify(got)}`);
      if (!got.ok) assert.match(got.reason, c.reason);
    });
  }

  it('accepts exactly 255 octets', () => {
    const bytes = wire('x'.repeat(63), 'x'.repeat(63), 'x'.repeat(63), 'x'.repeat(61));
    assert.equal(bytes.length, 255);
    assert.equal(readName(bytes, 0).ok, true);
  });
});

describe('encodeName', () => {
  const ok: Array<{ name: string; input: string; want: Uint8Array }> = [
    { name: 'root as empty', input: '', want: wire() },
    { name: 'root as dot', input: '.', want: wire() },
    { name: 'trailing dot optional', input: 'a.example.', want: wire('a', 'example') },
    { name: 'escapes', input: 'a\\.b.c\\\\d.\\032\\255', want: wire('a.b', 'c\\d', [0x20, 0xff]) },
  ];
  for (const c of ok) {
    it(c.name, () => assert.deepEqual(encodeName(c.input), c.want));
  }

  const bad: Array<{ name: string; input: string; message: RegExp }> = [
    { name: 'empty label', input: 'a..b', message: /empty label at position 2/ },
    { name: 'leading dot', input: '.a', message: /empty label at position 0/ },
    { name: '64-octet label', input: `${'x'.repeat(64)}.com`, message: /label of 64 octets exceeds 63/ },
    {
      name: 'over 255 octets',
      input: Array(5).fill('x'.repeat(60)).join('.'),
      message: /306 octets exceeds 255/,
    },
    { name: 'non-ASCII', input: 'bücher.de', message: /character code 252 .* escape it as \\DDD/ },
    { name: 'space', input: 'a b', message: /character code 32/ },
    { name: 'escape over 255', input: 'a\\256', message: /escape \\256 exceeds 255/ },
    { name: 'dangling backslash', input: 'a\\', message: /bad escape/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => assert.throws(() => encodeName(c.input), c.message));
  }

  it('round-trips everything readName produces', () => {
    const bytes = wire('Mixed', 'a.b', [0, 1, 0x5c, 0x7f, 0x80, 0xff], 'end');
    const read = readName(bytes, 0);
    assert.ok(read.ok);
    assert.deepEqual(encodeName(read.name), bytes);
  });
});

describe('lowerName and sameWireName', () => {
  it('lower-cases ASCII only, leaving escapes intact', () => {
    assert.equal(lowerName('App.EXAMPLE.com\\065'), 'app.example.com\\065');
  });
  it('compares wire names ignoring ASCII case', () => {
    assert.equal(sameWireName(encodeName('App.Example'), encodeName('app.example.')), true);
    assert.equal(sameWireName(encodeName('app.example'), encodeName('app.exampl')), false);
    assert.equal(sameWireName(encodeName('a\\091'), encodeName('a\\123')), false, '[ and { differ by 0x20');
  });
});
