import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createFileSource, createSyntheticSource } from './signal-source.js';

async function readN(source: { read(): Promise<number> }, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await source.read());
  return out;
}

describe('createSyntheticSource', () => {
  it('plays a list, then repeats its last value', async () => {
    assert.deepEqual(await readN(createSyntheticSource([10, 20, 30]), 5), [10, 20, 30, 30, 30]);
  });
  it('reads 0 from an empty list', async () => {
    assert.deepEqual(await readN(createSyntheticSource([]), 2), [0, 0]);
  });
  it('evaluates a function of the injected clock', async () => {
    let t = 0;
    const source = createSyntheticSource(
      (tMs) => 40 + tMs / 1000,
      () => t,
    );
    const got: number[] = [];
    for (const at of [0, 1000, 5500]) {
      t = at;
      got.push(await source.read());
    }
    assert.deepEqual(got, [40, 41, 45.5]);
  });
});

describe('createFileSource', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opengslb-signal-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'cpu');

  it('reads the number in the file on every read', async () => {
    const source = createFileSource(file);
    writeFileSync(file, '42\n');
    assert.equal(await source.read(), 42);
    writeFileSync(file, ' 95.5 ');
    assert.equal(await source.read(), 95.5);
  });

  const bad: Array<{ name: string; content?: string; want: RegExp }> = [
    { name: 'a missing file', want: /signal file .*missing: cannot read: ENOENT$/ },
    { name: 'an empty file', content: '', want: /must hold one number .*got ""/ },
    { name: 'text', content: 'high\n', want: /must hold one number .*got "high"/ },
    { name: 'two numbers', content: '1 2', want: /got "1 2"/ },
    { name: 'a huge file', content: '9'.repeat(1000), want: /at most 64 bytes/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}, naming the file`, async () => {
      const path = join(dir, c.content === undefined ? 'missing' : 'bad');
      if (c.content !== undefined) writeFileSync(path, c.content);
      await assert.rejects(createFileSource(path).read(), c.want);
    });
  }
});
