import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLeaderLease, raftTiming } from './lease.js';

describe('raftTiming', () => {
  const cases = [
    {
      name: 'seed defaults 1 s / 1 s',
      hb: 1000,
      el: 1000,
      want: { tickMs: 100, electionTicks: 10, heartbeatTicks: 1, candidateTicks: 10, leaseMs: 750 },
    },
    {
      name: 'both at 150 ms: 15 ms ticks',
      hb: 150,
      el: 150,
      want: { tickMs: 15, electionTicks: 10, heartbeatTicks: 1, candidateTicks: 10, leaseMs: 112.5 },
    },
    {
      name: 'longer election timeout: more candidate ticks',
      hb: 500,
      el: 2000,
      want: { tickMs: 50, electionTicks: 10, heartbeatTicks: 1, candidateTicks: 40, leaseMs: 375 },
    },
    {
      name: 'minimum 5 ms: five 1 ms ticks',
      hb: 5,
      el: 12,
      want: { tickMs: 1, electionTicks: 5, heartbeatTicks: 1, candidateTicks: 12, leaseMs: 3.75 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(raftTiming(c.hb, c.el), c.want));
  }
  it('defaults the election timeout to the heartbeat timeout', () => {
    assert.equal(raftTiming(300).candidateTicks, 10);
  });
  it('names the value and the limit', () => {
    assert.throws(() => raftTiming(4), { message: 'raft: heartbeatTimeoutMs 4 must be >= 5' });
    assert.throws(() => raftTiming(100, 99), {
      message: 'raft: electionTimeoutMs 99 must be >= heartbeatTimeoutMs 100',
    });
  });
});

describe('createLeaderLease', () => {
  it('holds from confirmation until issue time + leaseMs, never before it is confirmed', () => {
    const lease = createLeaderLease('n1', 75);
    assert.equal(lease.holds(0), false, 'no lease before any confirmation');
    const ctx = lease.issue(1000);
    assert.equal(lease.holds(1001), false, 'issued but not confirmed');
    assert.equal(lease.confirm(ctx), true);
    assert.equal(lease.holds(1074.9), true);
    assert.equal(lease.holds(1075), false, 'expired at issue + leaseMs, however late it was confirmed');
  });
  it('extends only forward; a later confirmation covers earlier reads', () => {
    const lease = createLeaderLease('n1', 75);
    const a = lease.issue(1000);
    const b = lease.issue(1010);
    assert.equal(lease.confirm(b), true);
    assert.equal(lease.holds(1084), true);
    assert.equal(lease.confirm(a), true, 'still recognised as a lease read');
    assert.equal(lease.holds(1084), true, 'an older confirmation does not shorten the lease');
  });
  it('revoke drops the lease and pending reads', () => {
    const lease = createLeaderLease('n1', 75);
    lease.confirm(lease.issue(1000));
    const pending = lease.issue(1010);
    lease.revoke();
    assert.equal(lease.holds(1001), false);
    assert.equal(lease.confirm(pending), true, 'recognised, so it is not handed to readIndex callers');
    assert.equal(lease.holds(1011), false, 'a read issued before the revoke does not restore the lease');
  });
  it("leaves other contexts (the proposal tracker's) alone", () => {
    const lease = createLeaderLease('n1', 75);
    assert.equal(lease.confirm(new TextEncoder().encode('n1/1')), false);
    assert.equal(lease.confirm(new TextEncoder().encode('n2/lease/1')), false, "another node's lease read");
  });
});
