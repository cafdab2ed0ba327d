import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiHttpError, apiError } from './api-error.js';

describe('apiError', () => {
  it('builds the error envelope without headers', () => {
    assert.deepEqual(apiError(404, 'not_found', 'no such service "x"'), {
      status: 404,
      body: { error: { code: 'not_found', message: 'no such service "x"' } },
    });
  });
  it('keeps headers when given', () => {
    assert.deepEqual(apiError(503, 'not_leader', 'ask node-2', { 'retry-after': '1' }), {
      status: 503,
      body: { error: { code: 'not_leader', message: 'ask node-2' } },
      headers: { 'retry-after': '1' },
    });
  });
});

describe('ApiHttpError', () => {
  it('carries status, code, headers and cause, and converts to its response', () => {
    const cause = new Error('raft: not leader');
    const e = new ApiHttpError(503, 'not_leader', 'ask node-2', { headers: { 'retry-after': '1' }, cause });
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'ApiHttpError');
    assert.equal(e.cause, cause);
    assert.deepEqual(e.toResponse(), apiError(503, 'not_leader', 'ask node-2', { 'retry-after': '1' }));
  });
  it('omits headers when none were given', () => {
    assert.deepEqual(
      new ApiHttpError(409, 'conflict', 'exists').toResponse(),
      apiError(409, 'conflict', 'exists'),
    );
  });
});
