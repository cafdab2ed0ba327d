import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addReadRequest,
  advanceReadOnly,
  createReadOnly,
  lastPendingContext,
  recvReadAck,
} from './read-only.js';

const ctx = (s: string): Uint8Array => new TextEncoder().encode(s);
const names = (rs: { context: Uint8Array }[]): string[] => rs.map((r) => new TextDecoder().decode(r.context));

describe('read-only queue', () => {
  it('answers every request queued up to the acknowledged one, in order', () => {
    const ro = createReadOnly();
    assert.equal(addReadRequest(ro, 5, '1', ctx('a')), true);
    assert.equal(addReadRequest(ro, 6, '2', ctx('b')), true);
    assert.equal(addReadRequest(ro, 7, '1', ctx('c')), true);
    assert.equal(addReadRequest(ro, 9, '1', ctx('b')), false, 'duplicate context ignored');
    assert.deepEqual(lastPendingContext(ro), ctx('c'));
    assert.deepEqual([...(recvReadAck(ro, '2', ctx('b')) ?? new Map())], [['2', true]]);
    assert.equal(recvReadAck(ro, '2', ctx('zzz')), undefined);
    const done = advanceReadOnly(ro, ctx('b'));
    assert.deepEqual(names(done), ['a', 'b']);
    assert.deepEqual(
      done.map((r) => [r.from, r.index]),
      [
        ['1', 5],
        ['2', 6],
      ],
    );
    assert.deepEqual(names(advanceReadOnly(ro, ctx('b'))), []);
    assert.deepEqual(names(advanceReadOnly(ro, ctx('c'))), ['c']);
    assert.equal(lastPendingContext(ro), undefined);
  });
});
