import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptionError } from './errors.js';
import {
  decodeHardState,
  decodeSnapshot,
  encodeHardState,
  encodeSnapshot,
  parseSnapshotName,
  snapshotName,
} from './state-format.js';
import { snap } from './testkit/fixtures.js';

function corruptAt(offset: number, reason: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof CorruptionError, `expected CorruptionError, got ${String(e)}`);
    assert.equal(e.offset, offset, e.message);
    assert.match(e.reason, reason);
    return true;
  };
}

describe('hard state file', () => {
  it('round-trips, including a non-ASCII vote and large numbers', () => {
    const hs = { term: 2 ** 40 + 3, vote: 'nœud-2', commit: 2 ** 53 - 1 };
    assert.deepEqual(decodeHardState(encodeHardState(hs), 'hs'), hs);
  });
  const broken: [string, (b: Buffer) => Buffer, number, RegExp][] = [
    ['too short', (b) => b.subarray(0, 20), 0, /20 bytes is shorter than the 28-byte minimum/],
    [
      'CRC mismatch',
      (b) => Buffer.concat([b.subarray(0, 7), Buffer.from([(b[7] as number) ^ 1]), b.subarray(8)]),
      24, // the CRC follows 24 header bytes when the vote is empty
      /CRC/,
    ],
  ];
  for (const [name, damage, offset, reason] of broken) {
    it(`rejects a file ${name}`, () => {
      const bytes = damage(encodeHardState({ term: 1, vote: '', commit: 0 }));
      assert.throws(() => decodeHardState(bytes, 'hs'), corruptAt(offset, reason));
    });
  }
});

describe('snapshot file', () => {
  it('round-trips, including empty conf and data', () => {
    const s = snap(12, 3);
    assert.deepEqual(decodeSnapshot(encodeSnapshot(s), 'f'), s);
    const empty = { meta: { index: 1, term: 1, conf: new Uint8Array(0) }, data: new Uint8Array(0) };
    assert.deepEqual(decodeSnapshot(encodeSnapshot(empty), 'f'), empty);
  });
  it('rejects a damaged data byte at the CRC offset', () => {
    const bytes = encodeSnapshot(snap(12, 3));
    bytes[bytes.length - 5] = 0;
    assert.throws(() => decodeSnapshot(bytes, 'f'), corruptAt(bytes.length - 4, /CRC mismatch/));
  });
  it('names sort by index then term and parse back', () => {
    assert.equal(snapshotName(12, 3), 'snap-00000000000000000012-00000000000000000003.snap');
    assert.deepEqual(parseSnapshotName(snapshotName(12, 3)), { index: 12, term: 3 });
    assert.equal(parseSnapshotName(`${snapshotName(12, 3)}.corrupt`), undefined);
  });
});
