import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DnsGateConfig, type LeaseSource, mayAnswer } from './dns-gate.js';

const leader = (leaseUntil: number): LeaseSource => ({
  hasLease: (now) => now < leaseUntil,
  lastContact: () => undefined,
});
const follower = (contact: number | undefined): LeaseSource => ({
  hasLease: () => false,
  lastContact: () => contact,
});
const LEADER_ONLY: DnsGateConfig = { serveOn: 'leader', maxStaleMs: 5000 };
const ANY: DnsGateConfig = { serveOn: 'any', maxStaleMs: 5000 };

describe('mayAnswer', () => {
  const cases: { name: string; raft: LeaseSource; cfg: DnsGateConfig; now: number; want: boolean }[] = [
    { name: 'leader within its lease', raft: leader(1000), cfg: LEADER_ONLY, now: 999, want: true },
    {
      name: 'leader past its lease (paused, deposed)',
      raft: leader(1000),
      cfg: LEADER_ONLY,
      now: 1000,
      want: false,
    },
    { name: 'leader past its lease, serve_on any', raft: leader(1000), cfg: ANY, now: 1001, want: false },
    { name: 'follower, serve_on leader', raft: follower(900), cfg: LEADER_ONLY, now: 1000, want: false },
    { name: 'follower within max_stale', raft: follower(1000), cfg: ANY, now: 6000, want: true },
    { name: 'follower beyond max_stale', raft: follower(1000), cfg: ANY, now: 6001, want: false },
    { name: 'follower that never heard a leader', raft: follower(undefined), cfg: ANY, now: 1, want: false },
  ];
  for (const c of cases) it(c.name, () => assert.equal(mayAnswer(c.raft, c.cfg, c.now), c.want));

  it('costs well under a microsecond per query', () => {
    const raft = leader(Number.POSITIVE_INFINITY);
    const n = 1_000_000;
    const t0 = performance.now();
    let yes = 0;
    for (let i = 0; i < n; i++) if (mayAnswer(raft, ANY, performance.now())) yes++;
    const perCallNs = ((performance.now() - t0) * 1e6) / n;
    assert.equal(yes, n);
    // Includes the performance.now() call the DNS handler makes anyway; generous for a loaded 2-core box.
    assert.ok(perCallNs < 1000, `mayAnswer took ${perCallNs.toFixed(0)} ns per call`);
  });
});
