/** Outcome of {@link decodeJsonBody}: the value, or a message for the client naming what is wrong and where. */
export type JsonBodyResult = { ok: true; value: unknown } | { ok: false; message: string };

/** Where and why a text is not JSON; `position` counts UTF-16 code units, as JSON.parse does. */
export interface JsonSyntaxError {
  position: number;
  reason: string;
}

/**
 * Decodes a request body as strict UTF-8 JSON (RFC 8259). A leading BOM is dropped. On failure the message
 * always ends with `at position N`: V8's own messages omit the position for some errors and echo the input
 * for others, so the position is found by {@link findJsonSyntaxError} instead.
 */
export function decodeJsonBody(bytes: Uint8Array): JsonBodyResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e: unknown) {
    if (!(e instanceof TypeError)) throw e;
    return { ok: false, message: 'request body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e: unknown) {
    if (!(e instanceof SyntaxError)) throw e;
    const found = findJsonSyntaxError(text);
    const detail = found ? `${found.reason} at position ${found.position}` : e.message;
    return { ok: false, message: `request body is not valid JSON: ${detail}` };
  }
}

type Expect = 'value' | 'value-or-]' | 'key' | 'key-or-}' | 'colon' | 'comma-or-close' | 'end';

const LITERALS = ['true', 'false', 'null'] as const;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/**
 * Locates the first syntax error in `text`, or returns undefined when it is valid JSON. Iterative (an explicit
 * container stack), so deeply nested input cannot overflow the call stack.
 */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const stack: ('{' | '[')[] = [];
  // Sticky, so exec() matches exactly at lastIndex; local because lastIndex is state.
  const numberAt = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  let expect: Expect = 'value';
  let i = 0;
  const afterValue = (): Expect => (stack.length > 0 ? 'comma-or-close' : 'end');
  const unexpected = (at: number): JsonSyntaxError => ({
    position: at,
    reason:
      at >= text.length ? 'unexpected end of input' : `unexpected character ${JSON.stringify(text[at])}`,
  });

  for (;;) {
    while (i < text.length && ' \t\n\r'.includes(text[i] ?? '')) i++;
    if (i >= text.length) return expect === 'end' ? undefined : unexpected(i);
    const c = text[i];
    if (expect === 'end')
      return { position: i, reason: `unexpected ${JSON.stringify(c)} after the JSON value` };
    if (expect === 'colon') {
      if (c !== ':') return unexpected(i);
      i++;
      expect = 'value';
      continue;
    }
    if (expect === 'comma-or-close') {
      const top = stack[stack.length - 1];
      if (c === ',') {
        expect = top === '{' ? 'key' : 'value';
        i++;
      } else if (c === (top === '{' ? '}' : ']')) {
        stack.pop();
        i++;
        expect = afterValue();
      } else {
        return unexpected(i);
      }
      continue;
    }
    if (expect === 'key' || expect === 'key-or-}') {
      if (expect === 'key-or-}' && c === '}') {
        stack.pop();
        i++;
        expect = afterValue();
        continue;
      }
      if (c !== '"') return unexpected(i);
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = end;
      expect = 'colon';
      continue;
    }
    // expect is 'value' or 'value-or-]'.
    if (expect === 'value-or-]' && c === ']') {
      stack.pop();
      i++;
      expect = afterValue();
    } else if (c === '{' || c === '[') {
      stack.push(c);
      i++;
      expect = c === '{' ? 'key-or-}' : 'value-or-]';
    } else if (c === '"') {
      const end = scanString(text, i);
      if (typeof end !== 'number') return end;
      i = end;
      expect = afterValue();
    } else {
      const literal = LITERALS.find((l) => text.startsWith(l, i));
      numberAt.lastIndex = i;
      const number = literal === undefined ? numberAt.exec(text) : null;
      const length = literal?.length ?? number?.[0].length ?? 0;
      if (length === 0) return unexpected(i);
      i += length;
      expect = afterValue();
    }
  }
}

/** `start` is at the opening quote; returns the index after the closing quote, or the error. */
function scanString(text: string, start: number): number | JsonSyntaxError {
  let j = start + 1;
  while (j < text.length) {
    const code = text.charCodeAt(j);
    if (code === 0x22) return j + 1;
    if (code < 0x20) return { position: j, reason: 'unescaped control character in string' };
    if (code === 0x5c) {
      const e = text[j + 1];
      if (e === 'u') {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) {
          return { position: j, reason: 'invalid \\u escape in string' };
        }
        j += 6;
        continue;
      }
      if (e === undefined || !ESCAPES.has(e)) return { position: j, reason: 'invalid escape in string' };
      j += 2;
      continue;
    }
    j++;
  }
  return { position: j, reason: 'unterminated string' };
}
