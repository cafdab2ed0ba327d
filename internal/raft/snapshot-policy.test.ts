import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  resolveSnapshotPolicy,
  type SnapshotPosition,
  type SnapshotReason,
  snapshotDue,
} from './snapshot-policy.js';

describe('snapshot policy', () => {
  const policy = resolveSnapshotPolicy({ thresholdEntries: 20, intervalMs: 1000 });

  it('keeps one threshold of trailing entries unless told otherwise', () => {
    assert.equal(policy.trailingEntries, 20);
    assert.equal(
      resolveSnapshotPolicy({ thresholdEntries: 20, intervalMs: 1, trailingEntries: 0 }).trailingEntries,
      0,
    );
  });

  it('reports every invalid field', () => {
    assert.throws(
      () => resolveSnapshotPolicy({ thresholdEntries: 0, intervalMs: -1, trailingEntries: 1.5 }),
      /thresholdEntries 0 is not an integer >= 1; intervalMs -1 is not > 0; trailingEntries 1.5 is not an integer >= 0/,
    );
  });

  const cases: { name: string; pos: SnapshotPosition; want: SnapshotReason | undefined }[] = [
    {
      name: 'nothing applied yet',
      pos: { applied: 0, snapshotIndex: 0, sinceSnapshotMs: 5000 },
      want: undefined,
    },
    {
      name: 'below threshold, interval not over',
      pos: { applied: 19, snapshotIndex: 0, sinceSnapshotMs: 999 },
      want: undefined,
    },
    {
      name: 'threshold reached',
      pos: { applied: 20, snapshotIndex: 0, sinceSnapshotMs: 0 },
      want: 'threshold',
    },
    {
      name: 'threshold counted from the last snapshot',
      pos: { applied: 39, snapshotIndex: 20, sinceSnapshotMs: 0 },
      want: undefined,
    },
    {
      name: 'interval over with one new entry',
      pos: { applied: 21, snapshotIndex: 20, sinceSnapshotMs: 1000 },
      want: 'interval',
    },
    {
      name: 'interval over, nothing new (idle cluster)',
      pos: { applied: 20, snapshotIndex: 20, sinceSnapshotMs: 9000 },
      want: undefined,
    },
    // After InstallSnapshot the stored snapshot may be ahead of what this node applied itself.
    {
      name: 'snapshot ahead of applied',
      pos: { applied: 5, snapshotIndex: 30, sinceSnapshotMs: 9000 },
      want: undefined,
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(snapshotDue(policy, c.pos), c.want, JSON.stringify(c.pos)));
  }
});
