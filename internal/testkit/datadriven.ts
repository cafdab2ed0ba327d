/**
 * A tiny data-driven test format, after cockroachdb/datadriven as used by etcd-io/raft. A file is a sequence
 * of stanzas:
 *
 *   # comment lines narrate (kept verbatim on rewrite)
 *   cmd pos key=val key=(a,b,c)
 *   optional input lines
 *   ----
 *   expected output lines (no blank lines: a blank line ends the block)
 *
 * `runDataDriven` replays the stanzas in order through a handler and collects every mismatch; with
 * `REWRITE=1` in the environment it rewrites the expected blocks in place instead (review the diff before
 * committing a rewrite). Test-only: never imported by production code.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** One argument: `key` alone (positional), `key=val`, or `key=(a,b)` with several values. */
export interface DataArg {
  key: string;
  vals: string[];
  /** True for a bare word (no '='). */
  positional: boolean;
}

/** One stanza of a data-driven file. */
export interface DataCase {
  /** `file:line` of the command, for failure messages. */
  pos: string;
  cmd: string;
  args: DataArg[];
  /** Lines between the command and `----`, joined with '\n' ('' when none). */
  input: string;
  /** The expected block, joined with '\n'. */
  expected: string;
  /** 0-based line range [from, to) of the expected block in the file, for rewrites. */
  expectedLines: [number, number];
}

function parseArgs(words: string[], pos: string): DataArg[] {
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return { key: w, vals: [], positional: true };
    const key = w.slice(0, eq);
    const raw = w.slice(eq + 1);
    if (!raw.startsWith('(')) return { key, vals: [raw], positional: false };
    if (!raw.endsWith(')')) throw new Error(`${pos}: argument ${w} opens '(' without closing it`);
    const inner = raw.slice(1, -1);
    return { key, vals: inner === '' ? [] : inner.split(','), positional: false };
  });
}

/** Parses `text` (the contents of `file`) into stanzas; throws on malformed input, naming file:line. */
export function parseDataDriven(text: string, file: string): DataCase[] {
  const lines = text.split('\n');
  const cases: DataCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const pos = `${file}:${i + 1}`;
    const [cmd, ...words] = line.split(/\s+/);
    const inputLines: string[] = [];
    i++;
    while (i < lines.length && lines[i] !== '----') {
      if ((lines[i] as string).trim() === '') throw new Error(`${pos}: command has no '----' separator`);
      inputLines.push(lines[i] as string);
      i++;
    }
    if (i >= lines.length) throw new Error(`${pos}: command has no '----' separator`);
    i++;
    const from = i;
    while (i < lines.length && (lines[i] as string).trim() !== '') i++;
    cases.push({
      pos,
      cmd: cmd as string,
      args: parseArgs(words, pos),
      input: inputLines.join('\n'),
      expected: lines.slice(from, i).join('\n'),
      expectedLines: [from, i],
    });
  }
  return cases;
}

/** Runs a data-driven file; what the handler returns (or '' -> `ok`) is compared with each expected block. */
export type DataHandler = (c: DataCase) => string | Promise<string>;

/** The outcome of {@link runDataDriven}: mismatch reports (empty when all matched or rewritten). */
export interface DataRunResult {
  failures: string[];
  rewritten: boolean;
}

/** Normalises handler output: trailing whitespace trimmed, blank lines removed (they would end the block). */
function normalise(out: string): string {
  const lines = out
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  return lines.length === 0 ? 'ok' : lines.join('\n');
}

/**
 * Replays every stanza of `file` through `handler` in order. A handler that throws aborts the run (malformed
 * test input is a test bug); errors of the system under test belong in the returned output.
 */
export async function runDataDriven(
  file: string,
  handler: DataHandler,
  rewrite = process.env['REWRITE'] === '1',
): Promise<DataRunResult> {
  const text = readFileSync(file, 'utf8');
  const cases = parseDataDriven(text, file);
  const failures: string[] = [];
  const actuals: string[] = [];
  for (const c of cases) {
    const actual = normalise(await handler(c));
    actuals.push(actual);
    if (!rewrite && actual !== c.expected) {
      failures.push(`${c.pos}: ${c.cmd}\n--- expected\n${c.expected}\n--- actual\n${actual}`);
    }
  }
  if (!rewrite) return { failures, rewritten: false };
  const lines = text.split('\n');
  // Replace from the last block backwards so earlier line numbers stay valid.
  for (let k = cases.length - 1; k >= 0; k--) {
    const [from, to] = (cases[k] as DataCase).expectedLines;
    lines.splice(from, to - from, ...(actuals[k] as string).split('\n'));
  }
  writeFileSync(file, lines.join('\n'));
  return { failures: [], rewritten: true };
}

/** The values of argument `key`, or undefined when absent. */
export function argVals(c: DataCase, key: string): string[] | undefined {
  return c.args.find((a) => !a.positional && a.key === key)?.vals;
}

/** The single value of `key`, `def` when absent; throws (naming file:line) when given several. */
export function argVal(c: DataCase, key: string, def?: string): string | undefined {
  const vals = argVals(c, key);
  if (vals === undefined) return def;
  if (vals.length !== 1) throw new Error(`${c.pos}: argument ${key} wants one value, got ${vals.length}`);
  return vals[0];
}

/** Positional arguments (those without '='), in order. */
export function positional(c: DataCase): string[] {
  return c.args.filter((a) => a.positional).map((a) => a.key);
}
