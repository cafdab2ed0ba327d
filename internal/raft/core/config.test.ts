import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStorage } from '../storage-memory.js';
import {
  DEFAULT_MAX_INFLIGHT,
  DEFAULT_MAX_SIZE_PER_MSG,
  type RaftConfig,
  resolveRaftConfig,
} from './config.js';

const ok = (): RaftConfig => ({
  id: '1',
  clusterId: 'c',
  electionTicks: 10,
  heartbeatTicks: 1,
  storage: createMemoryStorage(),
  rand: { int: () => 0 },
});

describe('resolveRaftConfig', () => {
  it('applies defaults', () => {
    const c = resolveRaftConfig(ok());
    assert.equal(c.preVote, true);
    assert.equal(c.checkQuorum, true);
    assert.equal(c.maxSizePerMsg, DEFAULT_MAX_SIZE_PER_MSG);
    assert.equal(c.maxInflight, DEFAULT_MAX_INFLIGHT);
    assert.equal(c.applied, undefined);
    assert.equal(c.candidateTicks, 10, 'candidateTicks defaults to electionTicks');
  });
  it('rejects a candidate timeout shorter than the election timeout', () => {
    assert.throws(() => resolveRaftConfig({ ...ok(), candidateTicks: 9 }), {
      message: 'raft config: candidateTicks 9 must be an integer >= electionTicks 10',
    });
  });
  it('reports every problem with the value and the range', () => {
    assert.throws(
      () =>
        resolveRaftConfig({
          ...ok(),
          id: '',
          electionTicks: 5,
          heartbeatTicks: 5,
          maxInflight: 0,
          applied: -1,
        }),
      {
        message:
          'raft config: id must be a non-empty string; heartbeatTicks 5 must be < electionTicks 5; ' +
          'maxInflight 0 must be an integer >= 1; applied -1 must be an integer >= 0',
      },
    );
  });
  it('rejects non-integer ticks', () => {
    assert.throws(
      () => resolveRaftConfig({ ...ok(), electionTicks: 1.5 }),
      /electionTicks 1.5 must be an integer >= 2/,
    );
  });
});
