import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialStatus, observe } from './rise-fall.js';
import type { CheckResult, CheckSpec, HealthTarget, TargetStatus } from './types.js';

function spec(failureThreshold: number, successThreshold: number): CheckSpec {
  return {
    type: 'http',
    intervalMs: 1000,
    timeoutMs: 500,
    path: '/health',
    expectedStatus: [{ min: 200, max: 299 }],
    failureThreshold,
    successThreshold,
  };
}

function target(s: CheckSpec): HealthTarget {
  return { key: 'eu/a', address: '10.0.0.1', port: 80, region: 'eu', spec: s };
}

const ok: CheckResult = { ok: true, rttMs: 3, statusCode: 200 };
const bad: CheckResult = { ok: false, rttMs: 7, error: 'connection refused' };

/** Renders the verdict after each step: H healthy, U unhealthy, ? unknown; `*` marks a change. */
function replay(results: string, fall: number, rise: number): string {
  const s = spec(fall, rise);
  let status = initialStatus(target(s));
  const out: string[] = [];
  for (const [i, ch] of [...results].entries()) {
    const r = ch === '+' ? ok : bad;
    const next = observe(status, r, s, new Date(1_700_000_000_000 + i * 1000));
    out.push(
      `${next.status.healthy === undefined ? '?' : next.status.healthy ? 'H' : 'U'}${next.changed ? '*' : ''}`,
    );
    status = next.status;
  }
  return out.join(' ');
}

describe('observe: verdict sequences (results: + ok, - fail)', () => {
  const cases: { name: string; results: string; fall: number; rise: number; want: string }[] = [
    { name: 'first ok decides healthy', results: '+', fall: 3, rise: 2, want: 'H*' },
    { name: 'first failure decides unhealthy', results: '-', fall: 3, rise: 2, want: 'U*' },
    { name: 'falls after fall=3 failures', results: '+---', fall: 3, rise: 2, want: 'H* H H U*' },
    { name: 'rises after rise=2 successes', results: '-++', fall: 3, rise: 2, want: 'U* U H*' },
    { name: 'a success resets the failure run', results: '+--+--', fall: 3, rise: 2, want: 'H* H H H H H' },
    { name: 'a failure resets the success run', results: '-+-+-+', fall: 3, rise: 2, want: 'U* U U U U U' },
    {
      name: 'full cycle: fall, stay down, rise, stay up',
      results: '+---+-++++',
      fall: 3,
      rise: 2,
      want: 'H* H H U* U U U H* H H',
    },
    { name: 'thresholds of 1 flip on every change', results: '+-+-', fall: 1, rise: 1, want: 'H* U* H* U*' },
    { name: 'thresholds of 0 act as 1', results: '+-+', fall: 0, rise: 0, want: 'H* U* H*' },
    { name: 'negative thresholds act as 1', results: '-+-', fall: -2, rise: -2, want: 'U* H* U*' },
    { name: 'long failure run stays unhealthy', results: '------', fall: 2, rise: 2, want: 'U* U U U U U' },
    { name: 'first failure ignores fall threshold', results: '-+', fall: 5, rise: 1, want: 'U* H*' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(
        replay(c.results, c.fall, c.rise),
        c.want,
        `results ${c.results} fall=${c.fall} rise=${c.rise}`,
      );
    });
  }
});

describe('observe: status fields', () => {
  const s = spec(2, 2);
  const start = initialStatus(target(s));

  it('initialStatus copies identity and starts unknown with zero counters', () => {
    assert.deepEqual(start, {
      key: 'eu/a',
      address: '10.0.0.1',
      port: 80,
      region: 'eu',
      healthy: undefined,
      lastCheck: undefined,
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      lastError: undefined,
      rttMs: undefined,
      checks: 0,
    });
  });

  const steps: { name: string; result: CheckResult; want: Partial<TargetStatus> }[] = [
    {
      name: 'success records rtt and clears error',
      result: ok,
      want: {
        healthy: true,
        consecutiveSuccesses: 1,
        consecutiveFailures: 0,
        rttMs: 3,
        lastError: undefined,
        checks: 1,
      },
    },
    {
      name: 'failure records error and keeps the last successful rtt',
      result: bad,
      want: {
        healthy: true,
        consecutiveSuccesses: 0,
        consecutiveFailures: 1,
        rttMs: 3,
        lastError: 'connection refused',
        checks: 2,
      },
    },
    {
      name: 'failure without an error text gets a generic one',
      result: { ok: false, rttMs: 1 },
      want: { healthy: false, consecutiveFailures: 2, lastError: 'check failed', checks: 3 },
    },
    {
      name: 'success after failures resets the failure run',
      result: { ok: true, rttMs: 9 },
      want: {
        healthy: false,
        consecutiveSuccesses: 1,
        consecutiveFailures: 0,
        rttMs: 9,
        lastError: undefined,
      },
    },
  ];
  let status = start;
  for (const [i, step] of steps.entries()) {
    it(step.name, () => {
      const now = new Date(1_700_000_000_000 + i);
      const before = structuredClone(status);
      const { status: next } = observe(status, step.result, s, now);
      assert.deepEqual(status, before, 'observe must not modify its input status');
      assert.notEqual(next, status, 'observe must return a new object');
      const picked = Object.fromEntries(
        Object.keys(step.want).map((k) => [k, next[k as keyof TargetStatus]]),
      );
      assert.deepEqual(picked, step.want);
      assert.equal(next.lastCheck?.getTime(), now.getTime(), 'lastCheck is the given now');
      assert.notEqual(next.lastCheck, now, 'lastCheck must not alias the caller Date');
      status = next;
    });
  }
});
