/**
 * Routing algorithms through the real binary: the distribution of answers over many UDP queries, and failover
 * following health. Addresses 127.0.1.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig, serversOf } from '../testkit/config.js';
import { firstAddresses, tally, waitHealth } from '../testkit/observe.js';
import { answerData, type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const RR = ['127.0.1.2', '127.0.1.3', '127.0.1.4'];
const WEIGHTED = ['127.0.1.5', '127.0.1.6', '127.0.1.7'];
const WEIGHTS = [100, 300, 0];
const PRIMARY = '127.0.1.8';
const SECONDARY = '127.0.1.9';
/** Failover returns only after this many passing checks; 3 so "after one success" would be caught. */
const RISE = 3;

describe('routing algorithms', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];
  const backend = (address: string): TestBackend => {
    const b = backends.find((x) => x.address === address);
    if (b === undefined) throw new Error(`no backend ${address}`);
    return b;
  };

  before(async () => {
    backends = await startBackends([...RR, ...WEIGHTED, PRIMARY, SECONDARY]);
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [
            { name: 'rr', servers: serversOf(backends.slice(0, 3)), health_check: FAST_CHECK },
            { name: 'wt', servers: serversOf(backends.slice(3, 6), WEIGHTS), health_check: FAST_CHECK },
            {
              name: 'primary',
              servers: serversOf([backend(PRIMARY)]),
              health_check: { ...FAST_CHECK, success_threshold: RISE },
            },
            { name: 'secondary', servers: serversOf([backend(SECONDARY)]), health_check: FAST_CHECK },
          ],
          domains: [
            { name: 'rr.example.com', routing_algorithm: 'round-robin', regions: ['rr'], max_records: 1 },
            { name: 'wt.example.com', routing_algorithm: 'weighted', regions: ['wt'], max_records: 1 },
            { name: 'fo.example.com', routing_algorithm: 'failover', regions: ['primary', 'secondary'] },
          ],
        }),
    });
    const healthy = Object.fromEntries([...RR, ...WEIGHTED, PRIMARY, SECONDARY].map((a) => [a, true]));
    await waitHealth(run, healthy);
  });

  after(async () => {
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('round-robin with max_records 1 rotates through the three backends in a fixed order', async () => {
    assert.ok(run);
    const got = await firstAddresses(run, 'rr.example.com', 300);
    const counts = tally(got);
    assert.deepEqual([...counts.keys()].sort(), RR, 'every backend answers, nothing else');
    for (const a of RR) assert.equal(counts.get(a), 100, `${a} share of 300 answers`);
    // Exact rotation: answer i repeats answer i-3, and three consecutive answers are all distinct.
    const cycle = got.slice(0, 3);
    assert.equal(new Set(cycle).size, 3, `first cycle ${cycle.join(',')}`);
    for (const [i, a] of got.entries()) {
      assert.equal(a, cycle[i % 3], `answer ${i} breaks the rotation ${cycle.join(',')}`);
    }
  });

  it('weighted 100/300/0 gives about 25%/75%/0% and never the weight-0 backend', async () => {
    assert.ok(run);
    const n = 600;
    const got = await firstAddresses(run, 'wt.example.com', n);
    const counts = tally(got);
    const share = (a: string): number => (100 * (counts.get(a) ?? 0)) / n;
    const shares = WEIGHTED.map((a) => `${a}=${share(a).toFixed(1)}%`).join(' ');
    assert.equal(counts.get(WEIGHTED[2] as string), undefined, `weight 0 must never appear: ${shares}`);
    // +-8 points is more than 4 standard deviations at n=600 (sd of a 25% share is 1.8 points).
    assert.ok(Math.abs(share(WEIGHTED[0] as string) - 25) <= 8, `weight 100 share ~25%: ${shares}`);
    assert.ok(Math.abs(share(WEIGHTED[1] as string) - 75) <= 8, `weight 300 share ~75%: ${shares}`);
    assert.equal(counts.size, 2, `only the two weighted backends: ${[...counts.keys()].join(',')}`);
  });

  it('failover answers the primary, moves to the secondary on 500 and returns after success_threshold', async () => {
    assert.ok(run);
    const r = run;
    const primary = backend(PRIMARY);
    const only = async (): Promise<string[]> => answerData(await r.udp('fo.example.com'), 'A');

    const steady = await Promise.all(Array.from({ length: 20 }, only));
    for (const a of steady) assert.deepEqual(a, [PRIMARY], 'healthy primary is the only answer');

    primary.setStatus(500);
    await waitFor(
      'failover to the secondary',
      async () => ((await only())[0] === SECONDARY ? true : undefined),
      5000,
    );
    assert.deepEqual(await only(), [SECONDARY]);

    primary.setStatus(200);
    const hitsAtRecovery = primary.hits();
    await waitFor('primary back', async () => ((await only())[0] === PRIMARY ? true : undefined), 5000);
    const passing = primary.hits() - hitsAtRecovery;
    assert.ok(
      passing >= RISE,
      `primary returned after ${passing} passing checks; success_threshold is ${RISE}`,
    );
  });
});
