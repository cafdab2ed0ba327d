import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata } from '@grpc/grpc-js';
import { bearerToken, tokensEqual } from './auth.js';

describe('bearerToken', () => {
  const cases: { name: string; values: string[]; want: string | undefined }[] = [
    { name: 'plain bearer', values: ['Bearer abc123'], want: 'abc123' },
    { name: 'scheme in lower case', values: ['bearer abc123'], want: 'abc123' },
    { name: 'scheme in upper case', values: ['BEARER abc123'], want: 'abc123' },
    { name: 'several spaces and trailing space', values: ['Bearer   abc123 '], want: 'abc123' },
    { name: 'token with base64 characters', values: ['Bearer a+b/c=='], want: 'a+b/c==' },
    { name: 'missing header', values: [], want: undefined },
    { name: 'empty token', values: ['Bearer '], want: undefined },
    { name: 'scheme only', values: ['Bearer'], want: undefined },
    { name: 'other scheme', values: ['Basic dXNlcjpwYXNz'], want: undefined },
    { name: 'no space after scheme', values: ['Bearerabc'], want: undefined },
    { name: 'token with inner space', values: ['Bearer abc def'], want: undefined },
    { name: 'first of several values', values: ['Bearer first', 'Bearer second'], want: 'first' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const metadata = new Metadata();
      for (const v of c.values) metadata.add('authorization', v);
      assert.equal(bearerToken(metadata), c.want);
    });
  }

  it('matches the key case-insensitively (grpc-js lower-cases keys)', () => {
    const metadata = new Metadata();
    metadata.set('Authorization', 'Bearer xyz');
    assert.equal(bearerToken(metadata), 'xyz');
  });
});

describe('tokensEqual', () => {
  const cases: { name: string; a: string; b: string; want: boolean }[] = [
    { name: 'identical', a: 'secret-token', b: 'secret-token', want: true },
    { name: 'differs in the last character', a: 'secret-token', b: 'secret-tokeN', want: false },
    { name: 'prefix of the other', a: 'secret', b: 'secret-token', want: false },
    { name: 'different lengths, no common prefix', a: 'x', b: 'a-much-longer-token-value', want: false },
    { name: 'one empty', a: '', b: 'secret', want: false },
    { name: 'both empty', a: '', b: '', want: true },
    { name: 'non-ASCII, equal', a: 'jeton-été', b: 'jeton-été', want: true },
    { name: 'non-ASCII, different normalisation', a: 'e\u0301', b: '\u00e9', want: false },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(tokensEqual(c.a, c.b), c.want));
  }
});
