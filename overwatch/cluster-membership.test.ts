import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status as grpcStatus } from '@grpc/grpc-js';
import pino from 'pino';
import { channelCredentials } from '../internal/grpc/credentials.js';
import { GrpcError } from '../internal/grpc/grpc-error.js';
import type { ConfChange } from '../internal/raft/core/conf-change.js';
import type { Status } from '../internal/raft/core/ready.js';
import type { RaftNode } from '../internal/raft/node.js';
import { bestVoter, createMembership } from './cluster-membership.js';
import { createLeaderClients } from './cluster-peers.js';

const status = (over: Partial<Status>): Status => ({
  id: 'n1',
  term: 2,
  vote: 'n1',
  role: 'leader',
  leader: 'n1',
  commit: 10,
  applied: 10,
  lastIndex: 10,
  conf: { voters: ['n1', 'n2', 'n3'], learners: [] },
  progress: {
    n1: { match: 10, next: 11, state: 'replicate', recentActive: true },
    n2: { match: 7, next: 8, state: 'replicate', recentActive: true },
    n3: { match: 10, next: 11, state: 'replicate', recentActive: true },
  },
  ...over,
});

/** A node that records conf changes and transfers; enough for the checks made before anything is sent. */
function fakeNode(st: Status) {
  const proposed: ConfChange[] = [];
  const node = {
    status: () => st,
    proposeConfChange: async (cc: ConfChange) => {
      proposed.push(cc);
      return 11;
    },
  } as unknown as RaftNode;
  return { node, proposed };
}

function membership(st: Status) {
  const f = fakeNode(st);
  const m = createMembership({
    nodeId: 'n1',
    clusterId: 'c',
    node: () => f.node,
    leaderClients: createLeaderClients(channelCredentials({})),
    raftAddressOf: () => undefined,
    heartbeatTimeoutMs: 100,
    waitSoftState: async () => false,
    log: pino({ level: 'silent' }),
  });
  return { m, proposed: f.proposed };
}

const grpcCode = (code: number, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof GrpcError, `a GrpcError, got ${String(e)}`);
  assert.equal(e.code, code, e.toString());
  assert.match(e.message, re);
  return true;
};

describe('bestVoter', () => {
  const cases: Array<{ name: string; st: Status; want: string | undefined }> = [
    { name: 'the other voter with the highest match', st: status({}), want: 'n3' },
    {
      name: 'learners are never chosen',
      st: status({ conf: { voters: ['n1'], learners: ['n2'] } }),
      want: undefined,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(bestVoter(c.st, 'n1'), c.want));
});

describe('createMembership', () => {
  it('removes a follower with one remove conf change', async () => {
    const { m, proposed } = membership(status({}));
    await m.remove('n2');
    assert.deepEqual(proposed, [{ type: 'remove', node: 'n2' }]);
  });
  it('refuses an unknown id (NOT_FOUND, listing the members) and the last voter', async () => {
    const { m, proposed } = membership(status({ conf: { voters: ['n1'], learners: ['n4'] } }));
    await assert.rejects(
      m.remove('n9'),
      grpcCode(grpcStatus.NOT_FOUND, /"n9" is not a member \(members: n1, n4\)/),
    );
    await assert.rejects(m.remove('n1'), grpcCode(grpcStatus.FAILED_PRECONDITION, /last voter/));
    assert.deepEqual(proposed, []);
  });
  it('a follower without a known leader answers UNAVAILABLE', async () => {
    const { m } = membership(status({ role: 'follower', leader: '' }));
    await assert.rejects(m.remove('n2'), grpcCode(grpcStatus.UNAVAILABLE, /no leader/));
  });
  it('transfer on a follower: UNAVAILABLE without a known leader, and a forwarded one is not forwarded again', async () => {
    const lost = membership(status({ role: 'follower', leader: '' }));
    await assert.rejects(lost.m.transfer(''), grpcCode(grpcStatus.UNAVAILABLE, /not the leader/));
    // Leadership moved while the request travelled: the caller retries rather than the request bouncing on.
    const moved = membership(status({ role: 'follower', leader: 'n2' }));
    await assert.rejects(moved.m.transfer('', true), grpcCode(grpcStatus.UNAVAILABLE, /cannot forward/));
  });
  it('transfer refuses a non-member and a learner', async () => {
    const { m } = membership(status({ conf: { voters: ['n1', 'n2'], learners: ['n4'] } }));
    await assert.rejects(m.transfer('n9'), grpcCode(grpcStatus.NOT_FOUND, /not a member/));
    await assert.rejects(m.transfer('n4'), grpcCode(grpcStatus.FAILED_PRECONDITION, /non-voter/));
    assert.equal(await m.transfer('n1'), 'n1', 'the leader itself: nothing to do');
  });
});
