/**
 * Walks raw YAML data against a schema: applies defaults, converts keys to camelCase and durations to
 * milliseconds, and collects every problem (never stopping at the first) with the path an operator can find
 * in the file: `regions[0].servers[1].weight: must be an integer 0..1000 (got -5)`.
 */
import { formatDuration, parseDuration } from './duration.js';
import { camelKey, type SchemaNode } from './schema.js';

export type PathSegment = string | number;

/** One thing wrong with a configuration. */
export interface Problem {
  path: PathSegment[];
  message: string;
  /** Where the value came from when not the file, e.g. "OPENGSLB_DNS_LISTEN_ADDRESS" or "--bind-address". */
  source?: string;
  /** The problem is the key itself (unknown key), so point at the key rather than its value. */
  atKey?: boolean;
  /** 1-based position in the file, when known. */
  line?: number;
  col?: number;
}

/** `regions[0].servers[1].weight` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(top level)' : out;
}

/** One line per problem: `file:3:5: regions[0].name: must ... (from OPENGSLB_X)`. */
export function formatProblem(p: Problem, file?: string): string {
  const where = file !== undefined && p.line !== undefined ? `${file}:${p.line}:${p.col ?? 1}: ` : '';
  const from = p.source !== undefined ? ` (from ${p.source})` : '';
  const path = p.path.length === 0 ? '' : `${formatPath(p.path)}: `;
  return `${where}${path}${p.message}${from}`;
}

/** A short description of a raw value for messages: `"abc"`, `-5`, `a list`, `a mapping`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Damerau-free Levenshtein distance, small inputs only (config keys). */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_v, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] as number;
}

/** The closest known key when it is plausibly a typo, for "did you mean" hints. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestDist) {
      best = k;
      bestDist = d;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return bestDist <= limit ? best : undefined;
}

/**
 * Validates `raw` against `node`. Returns the loaded value (defaults applied) and every problem found; the
 * value is only meaningful when `problems` is empty.
 */
export function validate<T = unknown>(
  node: SchemaNode,
  raw: unknown,
  sources: ReadonlyMap<string, string> = new Map(),
): { value: T; problems: Problem[] } {
  const problems: Problem[] = [];
  const value = walk(node, raw, [], problems, sources);
  return { value: value as T, problems };
}

function walk(
  node: SchemaNode,
  raw: unknown,
  path: PathSegment[],
  problems: Problem[],
  sources: ReadonlyMap<string, string>,
): unknown {
  const report = (message: string): undefined => {
    const source = sources.get(formatPath(path));
    problems.push(source === undefined ? { path, message } : { path, message, source });
    return undefined;
  };
  if (raw === undefined || raw === null) {
    if (node.kind === 'object') return walkObject(node.fields, {}, path, problems, sources);
    if (node.default !== undefined) return structuredClone(node.default);
    if (node.optional === true) return undefined;
    return report('is required');
  }
  const value = walkPresent(node, raw, path, problems, sources, report);
  if (value !== undefined && node.check !== undefined) {
    const message = (node.check as (v: unknown) => string | undefined)(value);
    if (message !== undefined) report(message);
  }
  return value;
}

function walkPresent(
  node: SchemaNode,
  raw: unknown,
  path: PathSegment[],
  problems: Problem[],
  sources: ReadonlyMap<string, string>,
  report: (message: string) => undefined,
): unknown {
  switch (node.kind) {
    case 'string': {
      // Numbers are accepted as strings only where YAML would surprise an operator (port-less tokens, names).
      const v = typeof raw === 'number' ? String(raw) : raw;
      if (typeof v !== 'string') return report(`must be a string (got ${describeValue(raw)})`);
      if (node.enum !== undefined && !node.enum.includes(v)) {
        return report(`must be one of ${node.enum.join(', ')} (got ${describeValue(raw)})`);
      }
      return v;
    }
    case 'int':
      if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < node.min || raw > node.max) {
        return report(`must be an integer ${node.min}..${node.max} (got ${describeValue(raw)})`);
      }
      return raw;
    case 'number':
      if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < node.min || raw > node.max) {
        return report(`must be a number ${node.min}..${node.max} (got ${describeValue(raw)})`);
      }
      return raw;
    case 'bool':
      if (typeof raw !== 'boolean') return report(`must be true or false (got ${describeValue(raw)})`);
      return raw;
    case 'duration': {
      const ms = typeof raw === 'string' ? parseDuration(raw) : raw === 0 ? 0 : undefined;
      if (ms === undefined)
        return report(`must be a duration like "500ms" or "10s" (got ${describeValue(raw)})`);
      if (ms < node.minMs)
        return report(`must be at least ${formatDuration(node.minMs)} (got ${describeValue(raw)})`);
      if (node.maxMs !== undefined && ms > node.maxMs) {
        return report(`must be at most ${formatDuration(node.maxMs)} (got ${describeValue(raw)})`);
      }
      return ms;
    }
    case 'list': {
      if (!Array.isArray(raw)) return report(`must be a list (got ${describeValue(raw)})`);
      const out = raw.map((item, i) => walk(node.of, item, [...path, i], problems, sources));
      if (node.uniqueBy !== undefined) {
        const key = node.uniqueBy;
        const seen = new Map<unknown, number>();
        raw.forEach((item, i) => {
          if (!isMapping(item) || item[key] === undefined) return;
          const first = seen.get(item[key]);
          if (first === undefined) seen.set(item[key], i);
          else {
            problems.push({
              path: [...path, i, key],
              message: `duplicate ${key} ${describeValue(item[key])} (also at ${formatPath([...path, first])})`,
            });
          }
        });
      }
      return out;
    }
    case 'map': {
      if (!isMapping(raw)) return report(`must be a mapping (got ${describeValue(raw)})`);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) out[k] = walk(node.of, v, [...path, k], problems, sources);
      return out;
    }
    case 'object':
      if (!isMapping(raw)) return report(`must be a mapping (got ${describeValue(raw)})`);
      return walkObject(node.fields, raw, path, problems, sources);
  }
}

function walkObject(
  fields: Record<string, SchemaNode>,
  raw: Record<string, unknown>,
  path: PathSegment[],
  problems: Problem[],
  sources: ReadonlyMap<string, string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = Object.keys(fields);
  for (const key of Object.keys(raw)) {
    if (Object.hasOwn(fields, key)) continue;
    const hint = suggestKey(key, known);
    problems.push({
      path: [...path, key],
      message: hint === undefined ? 'unknown key' : `unknown key (did you mean "${hint}"?)`,
      atKey: true,
    });
  }
  for (const [key, child] of Object.entries(fields)) {
    out[camelKey(key, child)] = walk(child, raw[key], [...path, key], problems, sources);
  }
  return out;
}
