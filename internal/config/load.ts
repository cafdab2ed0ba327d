/**
 * Reads a YAML file, lays environment and flag values over it, validates the result against a schema and
 * reports every problem with its path, source and (for file values) line and column.
 */
import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { type Assignment, applyAssignments, envAssignments } from './overlay.js';
import type { SchemaNode } from './schema.js';
import { formatProblem, type PathSegment, type Problem, validate } from './validate.js';

export interface LoadOptions<T> {
  /** The schema whose loaded type is T (`Infer<typeof schema>`). */
  schema: SchemaNode;
  /** Path of the YAML file; undefined means "no file": defaults, environment and flags only. */
  file: string | undefined;
  /** Text of the file, when the caller already has it (tests, reload); otherwise read from `file`. */
  text?: string;
  /** Environment to take `OPENGSLB_*` values from; none when undefined. */
  env?: NodeJS.ProcessEnv;
  /** Flag values, applied after the environment. */
  flags?: readonly Assignment[];
  /** Rules across keys, run when the schema walk found nothing. */
  crossCheck?: (value: T) => Problem[];
}

export type LoadResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Loads and validates configuration. Never throws for bad input: every problem comes back in `errors`. */
export function loadConfig<T>(opts: LoadOptions<T>): LoadResult<T> {
  let text = opts.text;
  const file = opts.file;
  if (text === undefined && file !== undefined) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (e: unknown) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(e);
      return { ok: false, errors: [`${file}: cannot read configuration file: ${why}`] };
    }
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text ?? '', { lineCounter, prettyErrors: false, uniqueKeys: true });
  const label = file ?? '(config)';
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((err) => {
        const pos = lineCounter.linePos(err.pos[0]);
        const where = `${label}:${pos.line}:${pos.col}`;
        return `${where}: YAML syntax error: ${err.message.split('\n')[0]}`;
      }),
    };
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [`${label}: must be a YAML mapping at the top level`] };
  }
  const env =
    opts.env === undefined ? { assignments: [], problems: [] } : envAssignments(opts.schema, opts.env);
  const overlaid = applyAssignments(opts.schema, raw, [...env.assignments, ...(opts.flags ?? [])]);
  const result = validate<T>(opts.schema, overlaid.raw, overlaid.sources);
  let problems = [...env.problems, ...overlaid.problems, ...result.problems];
  const value = result.value;
  if (problems.length === 0 && opts.crossCheck !== undefined) problems = opts.crossCheck(value);
  if (problems.length === 0) return { ok: true, value };
  return {
    ok: false,
    errors: problems.map((p) => formatProblem(locate(p, doc.contents, lineCounter), file)),
  };
}

/** Adds the file position of the value (or of the nearest existing parent) a problem is about. */
function locate(p: Problem, root: unknown, lines: LineCounter): Problem {
  if (p.source !== undefined || p.path.length === 0) return p;
  let node: unknown = root;
  let found: Node | undefined = isNode(root) ? root : undefined;
  p.path.forEach((seg, i) => {
    if (node === undefined) return;
    const next = childOf(node, seg, p.atKey === true && i === p.path.length - 1);
    node = next;
    if (isNode(next)) found = next;
  });
  const offset = found?.range?.[0];
  if (offset === undefined) return p;
  const pos = lines.linePos(offset);
  return { ...p, line: pos.line, col: pos.col };
}

function isNode(v: unknown): v is Node {
  return isMap(v) || isSeq(v) || isScalar(v);
}

function childOf(node: unknown, seg: PathSegment, wantKey: boolean): unknown {
  if (isSeq(node) && typeof seg === 'number') return node.items[seg];
  if (isMap(node)) {
    for (const item of node.items) {
      if (!isPair(item)) continue;
      const key = isScalar(item.key) ? item.key.value : item.key;
      if (key === seg) return wantKey ? item.key : (item.value ?? item.key);
    }
  }
  return undefined;
}
