import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { argVal, argVals, parseDataDriven, positional, runDataDriven } from './datadriven.js';

const sample = `# narration
add-nodes 3 voters=(1,2,3) election=10 empty=()
----
ok

echo a | b
line one
line two
----
a | b: line one, line two
`;

describe('parseDataDriven', () => {
  it('reads commands, arguments, input and expected blocks with their lines', () => {
    const cases = parseDataDriven(sample, 'f.txt');
    assert.equal(cases.length, 2);
    const [a, b] = cases;
    assert.equal(a?.pos, 'f.txt:2');
    assert.equal(a?.cmd, 'add-nodes');
    assert.deepEqual(a && positional(a), ['3']);
    assert.deepEqual(a && argVals(a, 'voters'), ['1', '2', '3']);
    assert.deepEqual(a && argVals(a, 'empty'), []);
    assert.equal(a && argVal(a, 'election'), '10');
    assert.equal(a && argVal(a, 'missing', 'd'), 'd');
    assert.throws(() => a && argVal(a, 'voters'), /f.txt:2: argument voters wants one value, got 3/);
    assert.deepEqual(a?.expectedLines, [3, 4]);
    assert.equal(b?.input, 'line one\nline two');
    assert.equal(b?.expected, 'a | b: line one, line two');
    assert.deepEqual(b && positional(b), ['a', '|', 'b']);
  });

  it('fails on a command without separator, naming the line', () => {
    assert.throws(
      () => parseDataDriven('cmd\n\nother\n----\n', 'g.txt'),
      /g.txt:1: command has no '----' separator/,
    );
    assert.throws(
      () => parseDataDriven('cmd x=(1,2\n----\n', 'g.txt'),
      /argument x=\(1,2 opens '\(' without closing it/,
    );
  });
});

describe('runDataDriven', () => {
  const handler = (c: { cmd: string; input: string; args: { key: string }[] }): string =>
    c.cmd === 'echo' ? `${c.args.map((x) => x.key).join(' ')}: ${c.input.split('\n').join(', ')}` : '';

  it('reports mismatches with position, expected and actual', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dd-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const f = join(dir, 'x.txt');
    writeFileSync(f, sample.replace('line one, line two', 'something else'));
    const res = await runDataDriven(f, handler, false);
    assert.equal(res.failures.length, 1);
    assert.match(
      res.failures[0] ?? '',
      /x.txt:6: echo\n--- expected\na \| b: something else\n--- actual\na \| b: line one, line two/,
    );
  });

  it('rewrites expected blocks in place, keeping comments and input', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dd-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const f = join(dir, 'x.txt');
    writeFileSync(
      f,
      sample.replace('----\nok\n', '----\nstale\nlines\n').replace('line one, line two', 'old'),
    );
    const res = await runDataDriven(f, handler, true);
    assert.deepEqual(res, { failures: [], rewritten: true });
    assert.equal(readFileSync(f, 'utf8'), sample);
  });
});
