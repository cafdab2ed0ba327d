import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompactedError, CorruptionError, InvariantError, LockedError, UnavailableError } from './errors.js';

describe('raft errors', () => {
  const cases: [Error & { code: string }, string, string][] = [
    [
      new CompactedError(3, 7),
      'RAFT_COMPACTED',
      'raft storage: index 3 is compacted (first retained index 7)',
    ],
    [new UnavailableError(9, 5), 'RAFT_UNAVAILABLE', 'raft storage: index 9 is unavailable (last index 5)'],
    [
      new CorruptionError('/d/log-1.seg', 58, 'CRC mismatch'),
      'RAFT_CORRUPTION',
      'raft storage: /d/log-1.seg is corrupt at byte offset 58: CRC mismatch; refusing to start',
    ],
    [
      new InvariantError('append: entry 7 does not follow 5'),
      'RAFT_INVARIANT',
      'append: entry 7 does not follow 5',
    ],
  ];
  for (const [err, code, message] of cases) {
    it(`${err.name} has code ${code} and names the numbers`, () => {
      assert.deepEqual({ code: err.code, message: err.message }, { code, message });
    });
  }
  it('LockedError names the pid', () => {
    const e = new LockedError('/d/LOCK', 4242);
    assert.match(e.message, /^raft storage: \/d\/LOCK is held by running process 4242; two processes/);
  });
});
