/**
 * Prometheus-style label selectors, e.g. `code=~"5.."` or `{status="500",method!="HEAD"}`: the agent's
 * `predictive.error_rate.source.error_selector`. One grammar serves the configuration check and the agent's
 * scrape, so a selector that loads is one the agent can apply.
 *
 * Semantics follow Prometheus: regular expressions are anchored at both ends, and a label a series lacks
 * matches as the empty string (`le=""` selects series without `le`).
 */

/** Comparison of one label. */
export type MatchOp = '=' | '!=' | '=~' | '!~';

/** One `label op "value"` term; every term of a selector must hold. */
export interface LabelMatcher {
  label: string;
  op: MatchOp;
  /** The unescaped value (regular expression source for `=~` and `!~`). */
  value: string;
  /** The anchored regular expression, for `=~` and `!~` only. */
  re?: RegExp;
}

// One term and its separator. Longer operators first so `!=` is not read as `!` followed by `=`. Compiled
// per call with the sticky flag: a shared sticky RegExp would carry `lastIndex` between callers.
const TERM = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*(,?)/;

/** Undoes the string escapes the exposition format and PromQL use: `\\`, `\"`, `\n`. */
export function unescapeLabelValue(text: string): string {
  return text.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * Parses a selector. Braces are optional; an empty selector has no terms and matches every series (the
 * caller decides whether that is acceptable). Errors name the offending position.
 */
export function parseLabelSelector(text: string): { matchers: LabelMatcher[] } | { error: string } {
  let body = text.trim();
  if (body.startsWith('{')) {
    if (!body.endsWith('}')) return { error: `has "{" without a closing "}" (got ${JSON.stringify(text)})` };
    body = body.slice(1, -1).trim();
  }
  const matchers: LabelMatcher[] = [];
  const re = new RegExp(TERM.source, 'y');
  let pos = 0;
  while (pos < body.length) {
    re.lastIndex = pos;
    const m = re.exec(body);
    if (m === null) {
      return {
        error: `must be terms like code=~"5..", status="500" or method!="HEAD", comma separated; cannot read ${JSON.stringify(body.slice(pos))}`,
      };
    }
    const [, label, op, raw, comma] = m as unknown as [string, string, MatchOp, string, string];
    const value = unescapeLabelValue(raw);
    if (op === '=~' || op === '!~') {
      try {
        matchers.push({ label, op, value, re: new RegExp(`^(?:${value})$`) });
      } catch (e: unknown) {
        return {
          error: `has an invalid regular expression ${JSON.stringify(value)}: ${(e as Error).message}`,
        };
      }
    } else {
      matchers.push({ label, op, value });
    }
    pos = re.lastIndex;
    if (comma === '' && pos < body.length)
      return { error: `expected "," at ${JSON.stringify(body.slice(pos))}` };
  }
  return { matchers };
}

/** Whether a series with `labels` satisfies every matcher. */
export function matchesLabels(
  labels: Readonly<Record<string, string>>,
  matchers: readonly LabelMatcher[],
): boolean {
  return matchers.every((m) => matches(labels[m.label] ?? '', m));
}

function matches(v: string, m: LabelMatcher): boolean {
  switch (m.op) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return m.re?.test(v) === true;
    case '!~':
      return m.re?.test(v) !== true;
  }
}

/** Schema check: a non-empty selector the agent can apply. */
export function checkLabelSelector(text: string): string | undefined {
  const parsed = parseLabelSelector(text);
  if ('error' in parsed) return parsed.error;
  return parsed.matchers.length === 0
    ? 'must select the error series, e.g. code=~"5.." (an empty selector would count every request)'
    : undefined;
}
