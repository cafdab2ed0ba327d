import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { RaftService } from '../gen/opengslb/v1/raft_pb.js';
import { GrpcError } from '../grpc/grpc-error.js';
import { addService } from '../grpc/service.js';
import { startLoopback } from '../grpc/testkit/loopback.js';
import type { Message } from './core/message.js';
import { raftServiceImpl } from './raft-service.js';

const CLUSTER = 'c1';
const wire = (type: string, clusterId = CLUSTER) => ({ type, from: 'a', to: 'b', clusterId, term: 1n });
const failsWith = (code: status, detail: RegExp) => (e: unknown) => {
  assert.ok(e instanceof GrpcError, `expected a GrpcError, got ${String(e)}`);
  assert.equal(e.code, code);
  assert.match(e.message, detail);
  return true;
};

describe('RaftService implementation', () => {
  it('refuses every call from another cluster with FAILED_PRECONDITION and delivers nothing', async (t) => {
    const received: Message[] = [];
    const told: string[] = [];
    const onForeignCluster = (other: string, to: string): void => {
      told.push(`${other}->${to}`);
    };
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        RaftService,
        raftServiceImpl((m) => received.push(m), CLUSTER, { log, onForeignCluster }),
        { log },
      ),
    );
    const c = lb.client(RaftService);
    const foreign = failsWith(
      status.FAILED_PRECONDITION,
      /cluster id "c2" does not match this node's cluster "c1"/,
    );
    await assert.rejects(
      c.appendEntries({ messages: [wire('heartbeat'), wire('heartbeat', 'c2')] }),
      foreign,
    );
    await assert.rejects(c.requestVote({ message: wire('vote', 'c2') }), foreign);
    await assert.rejects(c.timeoutNow({ message: wire('timeout-now', 'c2') }), foreign);
    await assert.rejects(c.installSnapshot([{ message: wire('snapshot', 'c2'), last: true }]), foreign);
    await assert.rejects(c.join({ nodeId: 'x', clusterId: 'c2' }), foreign);
    assert.deepEqual(received, [], 'a refused batch delivers none of its messages');
    // The shell is told which node a foreign message was addressed to (a wiped node learns it is still wanted).
    assert.deepEqual(told, ['c2->b', 'c2->b', 'c2->b', 'c2->', 'c2->']);
  });

  it('refuses messages in the wrong RPC and unserved membership calls', async (t) => {
    const received: Message[] = [];
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        RaftService,
        raftServiceImpl((m) => received.push(m), CLUSTER, { log }),
        { log },
      ),
    );
    const c = lb.client(RaftService);
    await assert.rejects(
      c.appendEntries({ messages: [wire('vote')] }),
      failsWith(
        status.INVALID_ARGUMENT,
        /vote message not accepted by \/opengslb.v1.RaftService\/AppendEntries/,
      ),
    );
    await assert.rejects(c.requestVote({}), failsWith(status.INVALID_ARGUMENT, /carries no message/));
    await assert.rejects(c.forward({ clusterId: CLUSTER }), failsWith(status.UNIMPLEMENTED, /Forward/));
    await c.requestVote({ message: wire('pre-vote') });
    assert.deepEqual(
      received.map((m) => m.type),
      ['pre-vote'],
    );
  });

  it("passes a caller's advertised Raft address to onPeerAddress", async (t) => {
    const hints: string[] = [];
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        RaftService,
        raftServiceImpl(() => {}, CLUSTER, { log, onPeerAddress: (id, a) => hints.push(`${id} ${a}`) }),
        { log },
      ),
    );
    const c = lb.client(RaftService);
    await c.appendEntries(
      { messages: [wire('heartbeat')] },
      { metadata: { 'raft-address': '127.0.0.9:7000' } },
    );
    await c.appendEntries({ messages: [wire('heartbeat')] });
    assert.deepEqual(hints, ['a 127.0.0.9:7000']);
  });
});
