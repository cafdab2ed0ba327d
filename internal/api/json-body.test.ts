import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeJsonBody, findJsonSyntaxError } from './json-body.js';

describe('findJsonSyntaxError', () => {
  const valid = [
    '{}',
    ' { "a" : [1, -2.5e+3, "x\\u00e9\\n", true, false, null, {}] } ',
    '"s"',
    '0',
    '[[[]]]',
    '{"a":{"b":{"c":[]}}}',
  ];
  for (const text of valid) {
    it(`accepts ${JSON.stringify(text)}`, () => {
      assert.doesNotThrow(() => JSON.parse(text), 'fixture must be valid JSON');
      assert.equal(findJsonSyntaxError(text), undefined);
    });
  }

  const invalid = [
    { text: '', position: 0, reason: 'unexpected end of input' },
    { text: '   ', position: 3, reason: 'unexpected end of input' },
    { text: '{bad', position: 1, reason: 'unexpected character "b"' },
    { text: 'abc', position: 0, reason: 'unexpected character "a"' },
    { text: '{"a":1', position: 6, reason: 'unexpected end of input' },
    { text: '[1,]', position: 3, reason: 'unexpected character "]"' },
    { text: '{"a":1,}', position: 7, reason: 'unexpected character "}"' },
    { text: '{"a":1}x', position: 7, reason: 'unexpected "x" after the JSON value' },
    { text: '{"a":tru}', position: 5, reason: 'unexpected character "t"' },
    { text: '{"a" 1}', position: 5, reason: 'unexpected character "1"' },
    { text: '[01]', position: 2, reason: 'unexpected character "1"' },
    { text: '[1.]', position: 2, reason: 'unexpected character "."' },
    { text: '["a\tb"]', position: 3, reason: 'unescaped control character in string' },
    { text: '["\\x"]', position: 2, reason: 'invalid escape in string' },
    { text: '["\\u12g4"]', position: 2, reason: 'invalid \\u escape in string' },
    { text: '["abc', position: 5, reason: 'unterminated string' },
    { text: "{'a':1}", position: 1, reason: 'unexpected character "\'"' },
    { text: '[1 2]', position: 3, reason: 'unexpected character "2"' },
    { text: '{"a":1]', position: 6, reason: 'unexpected character "]"' },
  ];
  for (const c of invalid) {
    it(`rejects ${JSON.stringify(c.text)}`, () => {
      assert.throws(() => JSON.parse(c.text), SyntaxError, 'fixture must be invalid JSON');
      assert.deepEqual(findJsonSyntaxError(c.text), { position: c.position, reason: c.reason });
    });
  }

  it('handles nesting deeper than the call stack allows', () => {
    const depth = 200_000;
    assert.equal(findJsonSyntaxError('['.repeat(depth) + ']'.repeat(depth)), undefined);
    assert.deepEqual(findJsonSyntaxError('['.repeat(depth)), {
      position: depth,
      reason: 'unexpected end of input',
    });
  });
});

describe('decodeJsonBody', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  it('parses an object', () => {
    assert.deepEqual(decodeJsonBody(enc('{"weight":0}')), { ok: true, value: { weight: 0 } });
  });
  it('drops a UTF-8 BOM', () => {
    assert.deepEqual(decodeJsonBody(enc('\uFEFF{"a":"é"}')), { ok: true, value: { a: 'é' } });
  });
  it('reports the position of a syntax error', () => {
    assert.deepEqual(decodeJsonBody(enc('{"a":1,}')), {
      ok: false,
      message: 'request body is not valid JSON: unexpected character "}" at position 7',
    });
  });
  it('rejects invalid UTF-8', () => {
    assert.deepEqual(decodeJsonBody(Uint8Array.of(0x22, 0xff, 0x22)), {
      ok: false,
      message: 'request body is not valid UTF-8',
    });
  });
});
