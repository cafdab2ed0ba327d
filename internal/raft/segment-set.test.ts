import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRecord, segmentName } from './segment-format.js';
import { createSegmentSet } from './segment-set.js';
import { ent, ents } from './testkit/fixtures.js';

// ent(i, t) for one-digit i and t encodes to 29 bytes; segmentBytes 64 puts 3 records in a segment.
const REC = 29;

describe('createSegmentSet', () => {
  it('trims unwritten bytes instead of truncating the file', () => {
    const set = createSegmentSet([], 64);
    set.append(ents(1, 3, 1), undefined);
    set.append([ent(2, 2)], 2);
    const job = set.takeJob();
    assert.deepEqual(
      job?.writes.map((w) => [w.name, w.truncateTo, w.position, w.create]),
      [[segmentName(1), undefined, 0, true]],
    );
    assert.deepEqual(
      job?.writes[0]?.bytes,
      Buffer.concat([encodeRecord(ent(1, 1)), encodeRecord(ent(2, 2))]),
    );
    assert.equal(set.takeJob(), undefined, 'nothing left');
  });

  it('truncates written bytes and unlinks later segments newest first', () => {
    const set = createSegmentSet([], 64);
    set.append(ents(1, 9, 1), undefined);
    assert.deepEqual(
      set.takeJob()?.writes.map((w) => w.name),
      [1, 4, 7].map(segmentName),
    );
    set.append([ent(2, 2)], 2);
    const job = set.takeJob();
    assert.deepEqual(job?.unlinks, [7, 4].map(segmentName));
    assert.deepEqual(
      job?.writes.map((w) => [w.name, w.truncateTo, w.position, w.bytes.length]),
      [[segmentName(1), REC, REC, REC]],
    );
  });

  it('compacts whole segments only, oldest first, never the last', () => {
    const set = createSegmentSet(
      [1, 4, 7].map((first) => ({ first, offsets: [0, REC, 2 * REC], size: 3 * REC })),
      64,
    );
    assert.deepEqual(set.compact(6), [segmentName(1)], 'log-4 still holds 6');
    assert.deepEqual(set.compact(100), [segmentName(4)]);
    assert.deepEqual(set.names(), [segmentName(7)]);
  });

  it('resets to nothing, returning every file newest first', () => {
    const set = createSegmentSet([{ first: 1, offsets: [0, REC, 2 * REC], size: 3 * REC }], 64);
    set.append(ents(4, 9, 1), undefined);
    set.takeJob();
    set.append([ent(5, 2)], 5); // dooms log-7
    set.append(ents(6, 7, 2), undefined); // a new, unwritten log-7
    assert.deepEqual(set.reset(), [7, 4, 1].map(segmentName));
    assert.deepEqual([set.names(), set.takeJob()], [[], undefined]);
  });
});
