/**
 * The core must stay a pure state machine: time, randomness and I/O are injected by the shell. This scans the
 * (non-test, non-testkit) sources for ambient ones.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../../../internal/raft/core/', import.meta.url));
const FORBIDDEN = [
  'Date.now',
  'performance.now',
  'Math.random',
  'setTimeout',
  'setInterval',
  'setImmediate',
  'node:fs',
  'node:net',
  'node:crypto',
  'process.hrtime',
  'new Date(',
];

describe('raft core purity', () => {
  const sources = readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  it('has sources to check', () =>
    assert.ok(sources.length >= 10, `found ${sources.length} sources in ${dir}`));
  for (const f of sources) {
    it(`${f} uses no ambient time, randomness or I/O`, () => {
      const text = readFileSync(join(dir, f), 'utf8');
      const found = FORBIDDEN.filter((w) => text.includes(w));
      assert.deepEqual(found, [], `${f} mentions ${found.join(', ')}`);
    });
  }
});
