import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  const cases: Array<[string, number | undefined]> = [
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1500],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['0', 0],
    ['0s', 0],
    [' 5s ', 5000],
    ['', undefined],
    ['10', undefined],
    ['10 s', undefined],
    ['s', undefined],
    ['5d', undefined],
    ['-5s', undefined],
  ];
  for (const [input, want] of cases) {
    it(`parses ${JSON.stringify(input)} as ${want}`, () => assert.equal(parseDuration(input), want));
  }
});

describe('formatDuration', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [500, '500ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
  ];
  for (const [ms, want] of cases) {
    it(`formats ${ms} as ${want}`, () => {
      assert.equal(formatDuration(ms), want);
      assert.equal(parseDuration(want), ms, 'round trip');
    });
  }
});
