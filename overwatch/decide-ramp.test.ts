import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RAMP_STEP, type Ramp, rampDetails, rampFraction, rampOf } from './decide-ramp.js';

const T0 = 1_000_000;
const D = 60_000;
const down = (over: Partial<Ramp> = {}): Ramp => ({
  startMs: T0,
  from: 1,
  direction: -1,
  durationMs: D,
  rate: 1,
  ...over,
});
const up = (over: Partial<Ramp> = {}): Ramp => ({ ...down(), from: 0, direction: 1, ...over });

describe('rampFraction', () => {
  const cases: Array<{ name: string; ramp: Ramp; atMs: number; want: number }> = [
    { name: 'bleed starts at its from', ramp: down(), atMs: 0, want: 1 },
    { name: 'bleed takes no step before the first tenth', ramp: down(), atMs: 1, want: 1 },
    { name: 'bleed just before the first step', ramp: down(), atMs: D / 10 - 1, want: 1 },
    { name: 'bleed first step at duration/10', ramp: down(), atMs: D / 10, want: 0.9 },
    { name: 'bleed between steps keeps the step reached', ramp: down(), atMs: D / 10 + 1, want: 0.9 },
    { name: 'bleed half way', ramp: down(), atMs: D / 2, want: 0.5 },
    { name: 'bleed at 3/4 (between 0.3 and 0.2)', ramp: down(), atMs: (3 * D) / 4, want: 0.3 },
    { name: 'bleed just before the end', ramp: down(), atMs: D - 1, want: 0.1 },
    { name: 'bleed reaches 0 at bleed_duration', ramp: down(), atMs: D, want: 0 },
    { name: 'bleed stays at 0 afterwards', ramp: down(), atMs: 10 * D, want: 0 },
    {
      name: 'warning at rate 0.5 is half way after one duration',
      ramp: down({ rate: 0.5 }),
      atMs: D,
      want: 0.5,
    },
    {
      name: 'warning at rate 0.5 reaches 0 after two durations',
      ramp: down({ rate: 0.5 }),
      atMs: 2 * D,
      want: 0,
    },
    { name: 'bleed from 0.6 takes 0.6 of the duration', ramp: down({ from: 0.6 }), atMs: 0.6 * D, want: 0 },
    { name: 'bleed from 0.3 starts exactly at 0.3', ramp: down({ from: 0.3 }), atMs: 0, want: 0.3 },
    {
      name: 'bleed from off-step 0.65 does not rise to 0.7',
      ramp: down({ from: 0.65 }),
      atMs: 0,
      want: 0.65,
    },
    { name: 'bleed from off-step 0.65 holds until 0.6', ramp: down({ from: 0.65 }), atMs: 2999, want: 0.65 },
    { name: 'bleed from off-step 0.65 steps to 0.6', ramp: down({ from: 0.65 }), atMs: 3000, want: 0.6 },
    {
      name: 'slow start from off-step 0.65 does not fall to 0.6',
      ramp: up({ from: 0.65 }),
      atMs: 1,
      want: 0.65,
    },
    { name: 'slow start begins at its from', ramp: up(), atMs: 0, want: 0 },
    { name: 'slow start just before the first step', ramp: up(), atMs: D / 10 - 1, want: 0 },
    { name: 'slow start first step at duration/10', ramp: up(), atMs: D / 10, want: 0.1 },
    { name: 'slow start half way', ramp: up(), atMs: D / 2, want: 0.5 },
    { name: 'slow start just before the end', ramp: up(), atMs: D - 1, want: 0.9 },
    { name: 'slow start reaches 1 at the duration', ramp: up(), atMs: D, want: 1 },
    {
      name: 'slow start from 0.5 is done after half the duration',
      ramp: up({ from: 0.5 }),
      atMs: D / 2,
      want: 1,
    },
    { name: 'slow start from 0.7 starts exactly at 0.7', ramp: up({ from: 0.7 }), atMs: 0, want: 0.7 },
    {
      name: 'a clock behind the ramp start (new leader) reads the start',
      ramp: down({ from: 0.8 }),
      atMs: -5000,
      want: 0.8,
    },
    { name: 'zero duration bleeds at once', ramp: down({ durationMs: 0 }), atMs: 0, want: 0 },
    { name: 'zero duration slow start is full at once', ramp: up({ durationMs: 0 }), atMs: 0, want: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(
        rampFraction(c.ramp, T0 + c.atMs),
        c.want,
        `ramp ${JSON.stringify(c.ramp)} at +${c.atMs}ms`,
      );
    });
  }

  it('moves in whole steps only, one step per duration/10, in both directions', () => {
    for (let k = 0; k <= 10; k++) {
      const at = T0 + (k * D) / 10;
      assert.equal(rampFraction(down(), at), Math.round((1 - k * RAMP_STEP) * 10) / 10, `down at step ${k}`);
      assert.equal(rampFraction(up(), at), Math.round(k * RAMP_STEP * 10) / 10, `up at step ${k}`);
    }
    const seen = new Set<number>();
    for (let t = 0; t <= D; t += 100) seen.add(rampFraction(down(), T0 + t));
    assert.deepEqual(
      [...seen],
      [1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0],
      'distinct fractions over the ramp',
    );
  });
});

describe('rampDetails / rampOf', () => {
  const cases: Array<{ name: string; ramp: Ramp }> = [
    { name: 'bleed', ramp: down() },
    { name: 'warning at rate 0.25', ramp: down({ rate: 0.25, from: 0.7 }) },
    { name: 'slow start', ramp: up({ from: 0.4, durationMs: 30_000 }) },
  ];
  for (const c of cases) {
    it(`round-trips a ${c.name} through a decision`, () => {
      const d = { rampStartMs: c.ramp.startMs, rampFrom: c.ramp.from, details: rampDetails(c.ramp) };
      assert.deepEqual(rampOf(d), c.ramp);
    });
  }

  it('no ramp without a start time or a direction', () => {
    assert.equal(rampOf({ rampStartMs: undefined, rampFrom: 1, details: rampDetails(down()) }), undefined);
    assert.equal(rampOf({ rampStartMs: T0, rampFrom: 1, details: {} }), undefined);
    assert.equal(rampOf({ rampStartMs: T0, rampFrom: 1, details: { ramp: 'sideways' } }), undefined);
  });
});
