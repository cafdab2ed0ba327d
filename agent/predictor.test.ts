import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { seededRand } from '../internal/testkit/seeded-rand.js';
import {
  evaluate,
  initialSignalState,
  leastSquaresSlope,
  MAX_SAMPLES,
  type PredictiveState,
  type PredictorPolicy,
  type SignalReading,
  type SignalState,
} from './predictor.js';

const S = 1000;
const policy: PredictorPolicy = { threshold: 80, horizonMs: 30 * S, windowMs: 60 * S };

/** Feeds one sample per second (t = 0, 1, 2 ... s) with `now` equal to the sample time. */
function run(
  values: readonly number[],
  p: PredictorPolicy = policy,
): { readings: SignalReading[]; state: SignalState } {
  let state = initialSignalState('cpu');
  const readings: SignalReading[] = [];
  values.forEach((value, i) => {
    const r = evaluate(state, { tMs: i * S, value }, p, i * S);
    state = r.state;
    readings.push(r.reading);
  });
  return { readings, state };
}

/** `ok x50, warning x30, bleed x20`: the state sequence as runs, so a failure shows where it changed. */
function runs(readings: readonly SignalReading[]): string {
  const out: Array<[PredictiveState, number]> = [];
  for (const r of readings) {
    const lastRun = out[out.length - 1];
    if (lastRun !== undefined && lastRun[0] === r.state) lastRun[1]++;
    else out.push([r.state, 1]);
  }
  return out.map(([s, n]) => `${s} x${n}`).join(', ');
}

const range = (n: number, f: (t: number) => number): number[] => Array.from({ length: n }, (_v, t) => f(t));

describe('leastSquaresSlope', () => {
  const cases: Array<{ name: string; samples: Array<[number, number]>; want: number }> = [
    { name: 'no samples', samples: [], want: 0 },
    { name: 'one sample', samples: [[5, 10]], want: 0 },
    {
      name: 'equal times (zero variance)',
      samples: [
        [5, 10],
        [5, 20],
      ],
      want: 0,
    },
    {
      name: 'exact line 0.5 per ms',
      samples: [
        [0, 1],
        [2, 2],
        [4, 3],
      ],
      want: 0.5,
    },
    {
      name: 'falling',
      samples: [
        [0, 9],
        [1000, 6],
        [2000, 3],
      ],
      want: -0.003,
    },
    {
      name: 'epoch-sized times keep precision',
      samples: [
        [1_700_000_000_000, 10],
        [1_700_000_001_000, 11],
        [1_700_000_002_000, 12],
      ],
      want: 0.001,
    },
    {
      name: 'noise around a line',
      samples: [
        [0, 0],
        [1, 2],
        [2, 1],
        [3, 3],
      ],
      want: 0.8,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = leastSquaresSlope(c.samples.map(([tMs, value]) => ({ tMs, value })));
      assert.ok(Math.abs(got - c.want) < 1e-12, `slope: expected ${c.want}, got ${got}`);
    });
  }
});

describe('evaluate: series', () => {
  const cases: Array<{ name: string; values: number[]; policy?: PredictorPolicy; want: string }> = [
    { name: 'flat below the threshold', values: range(120, () => 50), want: 'ok x120' },
    {
      // value = 40.2 + 0.5/s: the 30 s forecast (value + 15) reaches 80 at t = 49.6 s, the value at 79.6 s.
      name: 'rising: warning before bleed',
      values: range(100, (t) => 40.2 + 0.5 * t),
      want: 'ok x50, warning x30, bleed x20',
    },
    {
      name: 'rising with horizon 0: no warning',
      values: range(100, (t) => 40.2 + 0.5 * t),
      policy: { ...policy, horizonMs: 0 },
      want: 'ok x80, bleed x20',
    },
    {
      // Steep, but 3 samples over 2 s span less than a quarter of the 60 s window.
      name: 'steep first samples are not a trend yet',
      values: [10, 60, 75],
      want: 'ok x3',
    },
    {
      // Below 75 from t=10, so bleed holds until t=70; the falling trend never warns afterwards.
      name: 'falling from above: held, then ok',
      values: [...range(10, (t) => 95 - t), ...range(80, (t) => 70 - t * 0.2)],
      want: 'bleed x70, ok x20',
    },
    {
      // The spike at t=30 bleeds; the first sample below 75 is t=31, so bleed holds until t=31+60.
      name: 'spike then recover: held for a full window',
      values: range(130, (t) => (t === 30 ? 95 : 50)),
      want: 'ok x30, bleed x61, ok x39',
    },
    {
      // Bleed at t=0; 76 is under the threshold but not under 75, so the hold never starts.
      name: 'hovering inside the hysteresis band holds bleed',
      values: [85, ...range(200, () => 76)],
      want: 'bleed x201',
    },
    {
      // Below 75 from t=1 to t=30, back to exactly 75 at t=31 (not below: the run restarts at t=32).
      name: 'a sample at the lower bound restarts the hold',
      values: [85, ...range(30, () => 70), 75, ...range(70, () => 70)],
      want: 'bleed x92, ok x10',
    },
    {
      name: 'margin 0: below the threshold for a window is enough',
      values: [85, ...range(70, () => 79.9)],
      policy: { ...policy, hysteresisMargin: 0, horizonMs: 0 },
      want: 'bleed x61, ok x10',
    },
    {
      name: 'margin 20: 65 is not low enough',
      values: [85, ...range(100, () => 65)],
      policy: { ...policy, hysteresisMargin: 20 },
      want: 'bleed x101',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(runs(run(c.values, c.policy).readings), c.want);
    });
  }

  it('noisy flat series never warns (seeded)', () => {
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rand = seededRand(seed);
      const values = range(300, () => 60 + (rand.next() - 0.5) * 20);
      const got = runs(run(values).readings);
      assert.equal(got, 'ok x300', `seed ${seed}: noise in 50..70 around a flat 60 must stay ok`);
    }
  });

  it('noisy rising series warns before it bleeds (seeded)', () => {
    for (const seed of [7, 8, 9]) {
      const rand = seededRand(seed);
      const values = range(120, (t) => 30 + 0.5 * t + (rand.next() - 0.5) * 4);
      const states = run(values).readings.map((r) => r.state);
      const firstWarning = states.indexOf('warning');
      const firstBleed = states.indexOf('bleed');
      assert.ok(
        firstWarning >= 0 && firstWarning < firstBleed,
        `seed ${seed}: first warning at ${firstWarning}s, first bleed at ${firstBleed}s: ${runs(run(values).readings)}`,
      );
    }
  });
});

describe('evaluate: readings', () => {
  it('reports value, threshold, trend and reasons', () => {
    const { readings } = run(range(100, (t) => 40.2 + 0.5 * t));
    const r = readings[10];
    assert.deepEqual(
      { value: r?.value, threshold: r?.threshold, state: r?.state, reason: r?.reason },
      { value: 45.2, threshold: 80, state: 'ok', reason: 'cpu 45.2% < 80%' },
    );
    assert.ok(
      Math.abs((r?.trendPerMinute ?? 0) - 30) < 1e-9,
      `trend: expected 30/min, got ${r?.trendPerMinute}`,
    );
    assert.equal(readings[60]?.reason, 'cpu forecast 85.2% within 30s (+30.0/min)');
    assert.equal(readings[99]?.reason, 'cpu 89.7% >= 80%');
  });

  it('explains a held bleed', () => {
    const { readings } = run([91, 72, 77]);
    assert.deepEqual(
      readings.map((r) => r.reason),
      [
        'cpu 91.0% >= 80%',
        'cpu holding bleed: 72.0% not yet below 75% for 1m',
        'cpu holding bleed: 77.0% not yet below 75% for 1m',
      ],
    );
  });

  it('extrapolates from the fitted line, not the latest sample', () => {
    // 40 + 0.5/s for a minute, then one low outlier (50 instead of 70). From the raw value the forecast
    // would be 50 + 15 = 65; the fitted line keeps it near 70 + 15.
    const values = [...range(60, (t) => 40 + 0.5 * t), 50];
    const last = run(values).readings.at(-1);
    assert.equal(last?.state, 'warning', `reading: ${JSON.stringify(last)}`);
  });
});

describe('evaluate: state handling', () => {
  it('keeps only the window and never more than MAX_SAMPLES', () => {
    const windowed = run(range(200, () => 10)).state;
    assert.equal(windowed.samples.length, 61, 'samples from now-60s to now inclusive');
    assert.equal(windowed.samples[0]?.tMs, 139 * S);

    let state = initialSignalState('memory');
    const wide: PredictorPolicy = { ...policy, windowMs: 3_600_000 };
    for (let i = 0; i < MAX_SAMPLES + 50; i++) state = evaluate(state, { tMs: i, value: 1 }, wide, i).state;
    assert.equal(state.samples.length, MAX_SAMPLES);
    assert.equal(state.samples[0]?.tMs, 50, 'the oldest samples go first');
  });

  it('does not mutate its input state', () => {
    const start = Object.freeze({ ...initialSignalState('cpu'), samples: Object.freeze([]) });
    const r = evaluate(start, { tMs: 0, value: 90 }, policy, 0);
    assert.deepEqual(start, initialSignalState('cpu'));
    assert.equal(r.state.bleeding, true);
  });

  const throwing: Array<{ name: string; call: () => unknown; want: RegExp }> = [
    {
      name: 'non-finite value',
      call: () => evaluate(initialSignalState('cpu'), { tMs: 0, value: Number.NaN }, policy, 0),
      want: /cpu sample value must be finite \(got NaN\)/,
    },
    {
      name: 'time going backwards',
      call: () => {
        const s = evaluate(initialSignalState('cpu'), { tMs: 10, value: 1 }, policy, 10).state;
        return evaluate(s, { tMs: 5, value: 1 }, policy, 10);
      },
      want: /cpu sample at 5ms is older than the previous sample at 10ms/,
    },
    {
      name: 'now before the sample',
      call: () => evaluate(initialSignalState('cpu'), { tMs: 10, value: 1 }, policy, 5),
      want: /now 5ms is before the sample at 10ms/,
    },
    {
      name: 'zero window',
      call: () => evaluate(initialSignalState('cpu'), { tMs: 0, value: 1 }, { ...policy, windowMs: 0 }, 0),
      want: /predictor policy for cpu: windowMs must be > 0 \(got 0\)/,
    },
    {
      name: 'negative margin',
      call: () =>
        evaluate(initialSignalState('cpu'), { tMs: 0, value: 1 }, { ...policy, hysteresisMargin: -1 }, 0),
      want: /hysteresisMargin must be >= 0 \(got -1\)/,
    },
  ];
  for (const c of throwing) {
    it(`throws RangeError on ${c.name}`, () => {
      assert.throws(c.call, (e: unknown) => e instanceof RangeError && c.want.test(e.message));
    });
  }
});

describe('predictor purity', () => {
  it('uses no ambient time, randomness, timers or I/O', () => {
    const source = readFileSync(new URL('../../agent/predictor.ts', import.meta.url), 'utf8');
    const code = source.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    for (const banned of [
      'Date.now',
      'performance',
      'Math.random',
      'crypto',
      'setTimeout',
      'setInterval',
      'node:',
    ]) {
      assert.ok(!code.includes(banned), `agent/predictor.ts must not use ${banned}`);
    }
  });
});
