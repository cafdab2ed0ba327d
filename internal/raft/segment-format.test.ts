import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CorruptionError } from './errors.js';
import {
  encodeRecord,
  parseSegmentName,
  RECORD_OVERHEAD_BYTES,
  scanSegment,
  segmentName,
} from './segment-format.js';
import type { Entry } from './storage.js';
import { ent } from './testkit/fixtures.js';

function segment(entries: Entry[]): Buffer {
  return Buffer.concat(entries.map(encodeRecord));
}

describe('segment names', () => {
  it('pad the first index to 20 digits and parse back', () => {
    assert.equal(segmentName(42), 'log-00000000000000000042.seg');
    assert.equal(parseSegmentName(segmentName(42)), 42);
    for (const bad of ['log-42.seg', 'log-00000000000000000000.seg', 'log-00000000000000000042.seg.tmp']) {
      assert.equal(parseSegmentName(bad), undefined, bad);
    }
  });
});

describe('scanSegment', () => {
  it('reads back kinds, empty data and indexes beyond 2^32', () => {
    const big = 2 ** 40;
    const entries: Entry[] = [
      { index: big, term: 7, kind: 'conf', data: new Uint8Array(0) },
      { ...ent(big + 1, 7), index: big + 1 },
    ];
    const buf = segment(entries);
    const scan = scanSegment(buf, 'f', big, true);
    assert.deepEqual(scan.entries, entries);
    assert.deepEqual(scan.offsets, [0, RECORD_OVERHEAD_BYTES]);
    assert.deepEqual([scan.goodBytes, scan.torn], [buf.length, undefined]);
  });

  const corrupt: [string, Entry[], number, RegExp][] = [
    ['an index out of sequence', [ent(1, 1), ent(3, 1)], 29, /record holds index 3, expected 2/],
    ['a term going back', [ent(1, 2), ent(2, 1)], 29, /record term 1 is below the previous record's/],
    ['a first index unlike the name', [ent(2, 1)], 0, /record holds index 2, expected 1/],
  ];
  for (const [name, entries, offset, reason] of corrupt) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => scanSegment(segment(entries), 'f', 1, true),
        (e: unknown) => {
          assert.ok(e instanceof CorruptionError, `expected CorruptionError, got ${String(e)}`);
          assert.deepEqual({ offset: e.offset, file: e.file }, { offset, file: 'f' });
          assert.match(e.reason, reason);
          return true;
        },
      );
    });
  }

  it('reports a torn tail only in the last segment', () => {
    const buf = segment([ent(1, 1), ent(2, 1)]).subarray(0, 40);
    assert.deepEqual(scanSegment(buf, 'f', 1, true).torn, {
      offset: 29,
      reason: 'record length 21 runs past the end of the file (3 bytes left)',
    });
    assert.throws(() => scanSegment(buf, 'f', 1, false), /not the last/);
  });
});
