import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProposalDroppedError } from './core/errors.js';
import { createProposalTracker } from './proposal-tracker.js';

const tracker = (readTimeoutMs = 60_000) =>
  createProposalTracker({ id: 'n1', incarnation: 'a1', readTimeoutMs, leader: () => 'n2' });
const droppedWith = (detail: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ProposalDroppedError);
  assert.equal(e.reason, 'not-leader');
  assert.equal(e.leaderHint, 'n2');
  assert.match(e.message, detail);
  return true;
};

describe('proposal tracker', () => {
  it('resolves a proposal when its (index, term) is applied', async () => {
    const t = tracker();
    const p = t.propose(5, 2);
    t.applied(4, 2);
    t.applied(5, 2);
    assert.equal(await p, 5);
  });

  it('rejects a proposal whose index was applied with another term', async () => {
    const t = tracker();
    const p = t.propose(5, 2);
    t.applied(5, 3);
    await assert.rejects(p, droppedWith(/entry 5 was replaced by a new leader/));
  });

  it('rejects a stale waiter when a new proposal lands on the same index', async () => {
    const t = tracker();
    const stale = t.propose(5, 2);
    const fresh = t.propose(5, 4);
    await assert.rejects(stale, droppedWith(/replaced before it was applied/));
    t.applied(5, 4);
    assert.equal(await fresh, 5);
  });

  it('rejects proposals covered by a restored snapshot', async () => {
    const t = tracker();
    const p = t.propose(5, 2);
    t.applied(9, undefined);
    await assert.rejects(p, droppedWith(/covered by a snapshot/));
  });

  it('resolves a read once its read point is applied', async () => {
    const t = tracker();
    const { context, done } = t.read();
    t.readState({ index: 7, context });
    let settled = false;
    void done.then(() => {
      settled = true;
    });
    t.applied(6, 1);
    await Promise.resolve();
    assert.equal(settled, false, 'read resolved before index 7 was applied');
    t.applied(7, 1);
    assert.equal(await done, 7);
  });

  it('never takes a read point meant for a read of an earlier process (contexts name the incarnation)', async () => {
    // A follower's read, still held by the leader when the follower restarts (and times out in the old process).
    const before = tracker(1).read();
    before.done.catch(() => {});
    const t = createProposalTracker({
      id: 'n1',
      incarnation: 'b2',
      readTimeoutMs: 60_000,
      leader: () => 'n2',
    });
    const { context, done } = t.read();
    assert.notDeepEqual(context, before.context, 'same id and sequence number, another incarnation');
    t.applied(9, 1);
    t.readState({ index: 3, context: before.context }); // the old read's answer arrives: not ours
    t.readState({ index: 9, context });
    assert.equal(await done, 9);
  });

  it('times out a confirmed read whose read point is never applied here', async () => {
    const t = tracker(20);
    const { context, done } = t.read();
    t.readState({ index: 7, context });
    t.applied(6, 1);
    await assert.rejects(done, droppedWith(/read index 7 confirmed but not applied here within 20 ms/));
  });

  it('times out a read that gets no read point', async () => {
    const { done } = tracker(20).read();
    await assert.rejects(done, droppedWith(/no read index confirmed within 20 ms/));
  });

  it('fails every waiter', async () => {
    const t = tracker();
    const p = t.propose(1, 1);
    const r = t.read().done;
    const boom = new Error('stopped');
    t.fail(boom);
    await assert.rejects(p, boom);
    await assert.rejects(r, boom);
  });
});
