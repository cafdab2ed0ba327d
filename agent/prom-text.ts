/**
 * A small parser for the Prometheus text exposition format (version 0.0.4; OpenMetrics text parses too),
 * enough to read counter samples: `name{label="value",...} value [timestamp]`. Comments (`# HELP`, `# TYPE`,
 * `# EOF`) are skipped and OpenMetrics exemplars (`... value # {trace_id="x"} 1`) ignored.
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */
import { unescapeLabelValue } from '../internal/config/label-selector.js';

/** One sample line. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  /** May be NaN or ±Infinity, as the format allows. */
  value: number;
}

/** The samples that parsed, and how many candidate lines did not (counted, never thrown). */
export interface ParsedExposition {
  samples: PromSample[];
  malformed: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
/** A label value between quotes: anything but an unescaped quote. */
const QUOTED = /"((?:[^"\\]|\\.)*)"/y;

/** Go's ParseFloat spellings the format uses besides ordinary numbers. */
function parseValue(token: string): number | undefined {
  switch (token) {
    case 'NaN':
      return Number.NaN;
    case '+Inf':
    case 'Inf':
      return Number.POSITIVE_INFINITY;
    case '-Inf':
      return Number.NEGATIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(token)) return undefined;
  return Number(token);
}

/** Reads `{a="1",b="2"}` starting at `line[start] === '{'`; returns the labels and the index after `}`. */
function parseLabels(
  line: string,
  start: number,
): { labels: Record<string, string>; end: number } | undefined {
  const labels: Record<string, string> = {};
  // Sticky regexps are copied per call: a shared one would carry `lastIndex` between parses.
  const nameRe = new RegExp(LABEL_NAME);
  const quotedRe = new RegExp(QUOTED);
  let i = start + 1;
  const skipSpace = (): void => {
    while (line[i] === ' ' || line[i] === '\t') i++;
  };
  for (;;) {
    skipSpace();
    if (line[i] === '}') return { labels, end: i + 1 };
    nameRe.lastIndex = i;
    const name = nameRe.exec(line);
    if (name === null) return undefined;
    i = nameRe.lastIndex;
    skipSpace();
    if (line[i] !== '=') return undefined;
    i++;
    skipSpace();
    quotedRe.lastIndex = i;
    const quoted = quotedRe.exec(line);
    if (quoted === null) return undefined;
    labels[name[0]] = unescapeLabelValue(quoted[1] as string);
    i = quotedRe.lastIndex;
    skipSpace();
    if (line[i] === ',') i++;
    else if (line[i] !== '}') return undefined;
  }
}

/**
 * Parses `text`. With `onlyName`, lines of other metrics are skipped without being parsed (cheap on large
 * endpoints) and only lines of that metric count as malformed.
 */
export function parsePromText(text: string, onlyName?: string): ParsedExposition {
  const samples: PromSample[] = [];
  let malformed = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const name = NAME.exec(line)?.[0];
    if (name === undefined) {
      if (onlyName === undefined) malformed++;
      continue;
    }
    if (onlyName !== undefined && name !== onlyName) continue;
    let labels: Record<string, string> = {};
    let rest = line.slice(name.length);
    if (rest.trimStart().startsWith('{')) {
      const open = line.indexOf('{', name.length);
      const parsed = parseLabels(line, open);
      if (parsed === undefined) {
        malformed++;
        continue;
      }
      labels = parsed.labels;
      rest = line.slice(parsed.end);
    } else if (rest !== '' && rest[0] !== ' ' && rest[0] !== '\t') {
      malformed++;
      continue;
    }
    // value [timestamp] [# exemplar]
    const tokens = rest.trim().split(/[ \t]+/);
    const value = parseValue(tokens[0] ?? '');
    const extra = tokens[1];
    if (value === undefined || (extra !== undefined && extra !== '#' && parseValue(extra) === undefined)) {
      malformed++;
      continue;
    }
    samples.push({ name, labels, value });
  }
  return { samples, malformed };
}
