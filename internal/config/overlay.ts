/**
 * Environment variables and command-line flags, laid over the file's raw data before validation, so a value
 * from any source gets the same checks and messages. Precedence: flag > environment > file > default.
 *
 * Environment names resolve against the schema: `OPENGSLB_CLUSTER_RAFT_DATA_DIR` -> `cluster.raft.data_dir`.
 * Keys contain underscores too, so resolution searches the tree rather than splitting on `_`.
 */

import type { SchemaNode } from './schema.js';
import { formatPath, type PathSegment, type Problem } from './validate.js';

/** One value from outside the file. `text` is parsed according to the key's type. */
export interface Assignment {
  path: string[];
  text: string;
  /** `OPENGSLB_DNS_LISTEN_ADDRESS` or `--dns-listen-address`, for messages. */
  source: string;
}

/** Finds the schema path an environment name (without prefix, upper case) refers to. */
export function resolveEnvPath(root: SchemaNode, name: string): string[] | undefined {
  const tokens = name.split('_');
  const search = (node: SchemaNode, from: number): string[] | undefined => {
    if (from === tokens.length) return isScalarLike(node) ? [] : undefined;
    if (node.kind !== 'object') return undefined;
    for (const key of Object.keys(node.fields)) {
      const keyTokens = key.toUpperCase().split('_');
      if (tokens.slice(from, from + keyTokens.length).join('_') !== keyTokens.join('_')) continue;
      const rest = search(node.fields[key] as SchemaNode, from + keyTokens.length);
      if (rest !== undefined) return [key, ...rest];
    }
    return undefined;
  };
  return search(root, 0);
}

function isScalarLike(node: SchemaNode): boolean {
  if (node.kind === 'list')
    return node.of.kind !== 'object' && node.of.kind !== 'list' && node.of.kind !== 'map';
  return node.kind !== 'object' && node.kind !== 'map';
}

function nodeAt(root: SchemaNode, path: readonly string[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const key of path) {
    if (node?.kind !== 'object') return undefined;
    node = node.fields[key];
  }
  return node;
}

/** Variables `opengslbctl` reads (its defaults for --address, --token, --api); no program's config key. */
export const CTL_ENV_NAMES: readonly string[] = ['OPENGSLB_ADDRESS', 'OPENGSLB_ADMIN_TOKEN', 'OPENGSLB_API'];

/**
 * Collects assignments from `OPENGSLB_*` variables; a variable that names no key is a problem, except the ones
 * `opengslbctl` reads ({@link CTL_ENV_NAMES}): an operator's shell that exports its token must not stop
 * `opengslb validate` or a server started from it.
 */
export function envAssignments(
  root: SchemaNode,
  env: NodeJS.ProcessEnv,
  prefix = 'OPENGSLB_',
): { assignments: Assignment[]; problems: Problem[] } {
  const assignments: Assignment[] = [];
  const problems: Problem[] = [];
  for (const [name, text] of Object.entries(env)) {
    if (!name.startsWith(prefix) || text === undefined) continue;
    const path = resolveEnvPath(root, name.slice(prefix.length));
    if (path === undefined) {
      if (CTL_ENV_NAMES.includes(name)) continue;
      problems.push({ path: [], message: `environment variable ${name} names no configuration key` });
      continue;
    }
    assignments.push({ path, text, source: name });
  }
  return { assignments, problems };
}

/** Parses text for a scalar key: "true" for bools, "5" for ints, "a,b" for lists. Durations stay text. */
export function parseScalar(node: SchemaNode, text: string): { value: unknown } | { message: string } {
  switch (node.kind) {
    case 'string':
    case 'duration':
      return { value: text };
    case 'int':
    case 'number': {
      const t = text.trim();
      const n = t === '' ? Number.NaN : Number(t);
      return Number.isNaN(n) ? { message: `must be a number (got ${JSON.stringify(text)})` } : { value: n };
    }
    case 'bool': {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes'].includes(t)) return { value: true };
      if (['false', '0', 'no', ''].includes(t)) return { value: false };
      return { message: `must be true or false (got ${JSON.stringify(text)})` };
    }
    case 'list': {
      const items = text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const out: unknown[] = [];
      for (const item of items) {
        const parsed = parseScalar(node.of, item);
        if ('message' in parsed) return parsed;
        out.push(parsed.value);
      }
      return { value: out };
    }
    default:
      return { message: 'cannot be set from the environment or a flag; set it in the file' };
  }
}

/**
 * Returns a copy of `raw` with the assignments applied in order (later wins), plus the source of every
 * overridden path for messages.
 */
export function applyAssignments(
  root: SchemaNode,
  raw: unknown,
  assignments: readonly Assignment[],
): { raw: Record<string, unknown>; sources: Map<string, string>; problems: Problem[] } {
  const out: Record<string, unknown> =
    typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? structuredClone(raw as Record<string, unknown>)
      : {};
  const sources = new Map<string, string>();
  const problems: Problem[] = [];
  for (const a of assignments) {
    const node = nodeAt(root, a.path);
    const path: PathSegment[] = [...a.path];
    if (node === undefined) {
      problems.push({ path, message: 'no such configuration key', source: a.source });
      continue;
    }
    const parsed = parseScalar(node, a.text);
    if ('message' in parsed) {
      problems.push({ path, message: parsed.message, source: a.source });
      continue;
    }
    let cursor = out;
    for (const key of a.path.slice(0, -1)) {
      const next = cursor[key];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) cursor[key] = {};
      cursor = cursor[key] as Record<string, unknown>;
    }
    cursor[a.path[a.path.length - 1] as string] = parsed.value;
    sources.set(formatPath(path), a.source);
  }
  return { raw: out, sources, problems };
}
