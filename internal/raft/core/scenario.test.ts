/**
 * Replays every scenario in testdata/ (see internal/testkit/datadriven.ts for the format). `REWRITE=1`
 * regenerates the expected blocks: review the diff and commit only rewrites you understand.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runDataDriven } from '../../testkit/datadriven.js';
import { createEnv } from './testkit/interaction-env.js';
import { handleCommand } from './testkit/interaction-handlers.js';

// Tests run from dist/; the scenario files stay in the source tree.
const dir = fileURLToPath(new URL('../../../../internal/raft/core/testdata/', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('raft core scenarios', () => {
  for (const f of files) {
    it(f, async () => {
      const env = createEnv();
      const res = await runDataDriven(join(dir, f), (c) => handleCommand(env, c));
      assert.deepEqual(res.failures, [], res.failures.join('\n\n'));
    });
  }
});
