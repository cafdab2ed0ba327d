/**
 * A backend that starts failing leaves the answers within interval x failure_threshold + 1 s and returns after
 * success_threshold passing checks: once for a /health that answers 500, once for a backend that is gone.
 * Addresses 127.0.2.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { gslbConfig, type HealthCheckYaml, serversOf } from '../testkit/config.js';
import { waitHealth } from '../testkit/observe.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const ADDRESSES = ['127.0.2.2', '127.0.2.3', '127.0.2.4'];
const INTERVAL_MS = 300;
const FALL = 2;
const RISE = 2;
const CHECK: HealthCheckYaml = {
  type: 'http',
  interval: `${INTERVAL_MS}ms`,
  timeout: '200ms',
  failure_threshold: FALL,
  success_threshold: RISE,
};
/** The bound on removal: interval x failure_threshold + 1 s. */
const REMOVAL_BOUND_MS = INTERVAL_MS * FALL + 1000;
/** The same bound for the way back, with success_threshold. */
const RETURN_BOUND_MS = INTERVAL_MS * RISE + 1000;

describe('health-based removal and return', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];

  before(async () => {
    backends = await startBackends(ADDRESSES);
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [{ name: 'r', servers: serversOf(backends), health_check: CHECK }],
          // max_records covers every backend, so one answer shows the whole serving set.
          domains: [{ name: 'app.example.com', regions: ['r'], max_records: 3 }],
        }),
    });
    await waitHealth(run, Object.fromEntries(ADDRESSES.map((a) => [a, true])));
  });

  after(async () => {
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  /** Waits for the serving set to equal `expected`; returns ms elapsed since `since` (performance.now()). */
  async function servingBecomes(expected: string[], since: number, limitMs: number): Promise<number> {
    const r = run;
    assert.ok(r);
    await waitFor(
      `answers ${expected.join(',')}`,
      async () => {
        const got = await r.addresses('app.example.com');
        // Thrown, not returned: waitFor reports the last mismatch when the deadline passes.
        if (got.join(',') !== expected.join(',')) throw new Error(`answers ${got.join(',')}`);
        return true;
      },
      limitMs + 4000,
    );
    return performance.now() - since;
  }

  const cases: Array<{
    name: string;
    fail: (b: TestBackend) => Promise<void>;
    heal: (b: TestBackend) => Promise<void>;
  }> = [
    {
      name: '/health answers 500',
      fail: async (b) => b.setStatus(500),
      heal: async (b) => b.setStatus(200),
    },
    { name: 'backend stopped', fail: (b) => b.stop(), heal: (b) => b.restart() },
  ];

  for (const [i, c] of cases.entries()) {
    it(`${c.name}: removed within ${REMOVAL_BOUND_MS}ms, back after ${RISE} passing checks`, async (t) => {
      const victim = backends[i] as TestBackend;
      const others = ADDRESSES.filter((a) => a !== victim.address);
      assert.deepEqual(await run?.addresses('app.example.com'), ADDRESSES, 'all serving before the change');

      const failedAt = performance.now();
      await c.fail(victim);
      const removalMs = await servingBecomes(others, failedAt, REMOVAL_BOUND_MS);
      assert.ok(
        removalMs <= REMOVAL_BOUND_MS,
        `${victim.address} removed after ${removalMs.toFixed(0)}ms; bound interval ${INTERVAL_MS}ms x failure_threshold ${FALL} + 1000ms = ${REMOVAL_BOUND_MS}ms`,
      );

      t.diagnostic(`${victim.address} removed after ${removalMs.toFixed(0)}ms`);

      const hitsBefore = victim.hits();
      const healedAt = performance.now();
      await c.heal(victim);
      const returnMs = await servingBecomes(ADDRESSES, healedAt, RETURN_BOUND_MS);
      const passing = victim.hits() - hitsBefore;
      t.diagnostic(`${victim.address} back after ${returnMs.toFixed(0)}ms and ${passing} passing checks`);
      assert.ok(
        passing >= RISE,
        `${victim.address} back after ${passing} passing checks; success_threshold ${RISE}`,
      );
      assert.ok(
        returnMs <= RETURN_BOUND_MS,
        `${victim.address} back after ${returnMs.toFixed(0)}ms; bound ${INTERVAL_MS}ms x ${RISE} + 1000ms = ${RETURN_BOUND_MS}ms`,
      );
    });
  }
});
