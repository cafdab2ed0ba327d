/** Options for the human-readable log format. */
export interface TextFormatOptions {
  /** Append `err.stack` (indented, on the following lines); meant for debug level only. */
  showStack: boolean;
}

/** What pino needs of a destination: one `write` per log line, each a JSON document ending in "\n". */
export interface LineSink {
  write(line: string): void;
}

// Fields rendered in fixed places, or dropped as noise on a terminal.
const PLACED = new Set(['time', 'level', 'msg', 'component', 'err', 'pid', 'hostname']);

// pino's numeric levels, for records written without the label formatter.
const LEVEL_LABELS = new Map([
  [10, 'trace'],
  [20, 'debug'],
  [30, 'info'],
  [40, 'warn'],
  [50, 'error'],
  [60, 'fatal'],
]);

/**
 * Renders one pino record as a single line:
 * `2026-01-02T03:04:05.678Z INFO  [component] message key=value nested.key=1 key2="quoted value" err="boom"`.
 * Strings are quoted (JSON escapes) when empty or holding spaces, quotes, `=`, `\` or control characters;
 * nested objects flatten to dotted keys; arrays print as compact JSON. Only a stack adds lines.
 */
export function formatTextLine(record: Record<string, unknown>, opts: TextFormatOptions): string {
  const rawTime = record['time'];
  const time = typeof rawTime === 'number' ? new Date(rawTime).toISOString() : String(rawTime ?? '-');
  const rawLevel = record['level'];
  const level =
    typeof rawLevel === 'number' ? (LEVEL_LABELS.get(rawLevel) ?? String(rawLevel)) : String(rawLevel);
  let line = `${time} ${level.toUpperCase().padEnd(5)} `;
  const component = record['component'];
  if (component !== undefined) line += `[${plain(component)}] `;
  line += typeof record['msg'] === 'string' ? escapeControls(record['msg']) : '';

  const fields: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (!PLACED.has(key)) pushField(fields, key, value);
  }
  const err = record['err'];
  let stack: string | undefined;
  if (isObject(err)) {
    pushField(
      fields,
      'err',
      typeof err['message'] === 'string' ? err['message'] : String(err['type'] ?? 'error'),
    );
    const code = err['code'];
    if (typeof code === 'string' || typeof code === 'number') pushField(fields, 'err.code', code);
    if (opts.showStack && typeof err['stack'] === 'string') stack = err['stack'];
  } else if (err !== undefined) {
    pushField(fields, 'err', err);
  }
  if (fields.length > 0) line += ` ${fields.join(' ')}`;
  if (stack !== undefined) line += `\n${stack.replace(/^/gm, '    ')}`;
  return line;
}

/**
 * A synchronous pino destination that writes {@link formatTextLine} output to `out`, so the text format
 * needs no worker thread or pino-pretty.
 */
export function createTextDestination(out: NodeJS.WritableStream, opts: TextFormatOptions): LineSink {
  return {
    write(line) {
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (e: unknown) {
        if (!(e instanceof SyntaxError)) throw e;
        // Not a pino record (a stray write): pass it through unchanged rather than lose it.
        out.write(line);
        return;
      }
      out.write(isObject(record) ? `${formatTextLine(record, opts)}\n` : line);
    },
  };
}

function pushField(fields: string[], key: string, value: unknown): void {
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) fields.push(`${key}={}`);
    for (const [k, v] of entries) pushField(fields, `${key}.${k}`, v);
    return;
  }
  fields.push(`${key}=${plain(value)}`);
}

function plain(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\\p{Cc}]+$/u.test(value) ? value : JSON.stringify(value);
  if (Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

/** Keeps a message on one line without quoting it. */
function escapeControls(s: string): string {
  return s.replace(/\p{Cc}/gu, (c) => JSON.stringify(c).slice(1, -1));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
