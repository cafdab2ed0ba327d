import assert from 'node:assert/strict';
import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeAllAt, writeFileAtomic } from './durable-file.js';
import { tempDir } from './testkit/fixtures.js';

describe('writeFileAtomic', () => {
  it('replaces the file and leaves no temp file', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'state'), 'old');
    await writeFileAtomic(dir, 'state', new TextEncoder().encode('new'));
    assert.equal(await readFile(join(dir, 'state'), 'utf8'), 'new');
    assert.deepEqual(await readdir(dir), ['state']);
  });
});

describe('writeAllAt', () => {
  it('writes at the position without disturbing other bytes', async (t) => {
    const path = join(await tempDir(t), 'f');
    await writeFile(path, 'abcdef');
    const fh = await open(path, 'r+');
    t.after(() => fh.close());
    await writeAllAt(fh, new TextEncoder().encode('XY'), 2);
    assert.equal(await readFile(path, 'utf8'), 'abXYef');
  });
});
