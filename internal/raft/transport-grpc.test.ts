import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { RaftService } from '../gen/opengslb/v1/raft_pb.js';
import { addService } from '../grpc/service.js';
import { startLoopback } from '../grpc/testkit/loopback.js';
import type { Message } from './core/message.js';
import { raftServiceImpl } from './raft-service.js';
import { testLogger, waitFor } from './testkit/grpc-cluster.js';
import { createGrpcTransport, type GrpcTransport } from './transport-grpc.js';

const CLUSTER = 'c1';
const msg = (type: Message['type'], extra: Partial<Message> = {}): Message => ({
  type,
  from: 'a',
  to: 'b',
  clusterId: CLUSTER,
  term: 1,
  ...extra,
});

interface Harness {
  transport: GrpcTransport;
  received: Message[];
  reports: string[];
  address: string;
}

/** A RaftService on loopback collecting what it receives, and a transport whose reports are recorded. */
async function harness(t: TestContext, maxQueued?: number): Promise<Harness> {
  const received: Message[] = [];
  const reports: string[] = [];
  const lb = await startLoopback(t, (server, log) =>
    addService(
      server,
      RaftService,
      raftServiceImpl((m) => received.push(m), CLUSTER, { log }),
      { log },
    ),
  );
  const transport = createGrpcTransport({
    credentials: credentials.createInsecure(),
    // Deadline 2 s: a loaded CI machine may take longer than the 200 ms floor to connect.
    heartbeatIntervalMs: 1000,
    log: testLogger(),
    reports: {
      unreachable: (id) => reports.push(`unreachable ${id}`),
      snapshot: (id, ok) => reports.push(`snapshot ${id} ${ok}`),
    },
    snapshotChunkBytes: 1000,
    ...(maxQueued === undefined ? {} : { maxQueued }),
  });
  t.after(() => transport.close());
  return { transport, received, reports, address: lb.address };
}

describe('gRPC transport', () => {
  it('delivers appends, votes and timeout-now to a peer in order', async (t) => {
    const h = await harness(t);
    h.transport.setPeer('b', h.address);
    const sent = [
      msg('append', { index: 1, logTerm: 1, commit: 1 }),
      msg('heartbeat', { commit: 1 }),
      msg('vote', { index: 2, logTerm: 1 }),
      msg('append-resp', { index: 3 }),
      msg('timeout-now'),
    ];
    h.transport.send(sent);
    await waitFor(
      '5 messages',
      5000,
      () => (h.received.length === 5 ? true : undefined),
      () => h.received,
    );
    assert.deepEqual(h.received, sent);
    assert.deepEqual(h.reports, []);
  });

  it('streams a snapshot in chunks and reports it delivered', async (t) => {
    const h = await harness(t);
    h.transport.setPeer('b', h.address);
    const data = Uint8Array.from({ length: 4500 }, (_, i) => i % 256);
    const snapshot = { meta: { index: 9, term: 2, conf: new Uint8Array([1]) }, data };
    h.transport.send([msg('snapshot', { snapshot })]);
    await waitFor('the snapshot report', 5000, () => (h.reports.length > 0 ? true : undefined));
    assert.deepEqual(h.reports, ['snapshot b true']);
    assert.deepEqual(new Uint8Array(h.received[0]?.snapshot?.data ?? []), data);
    assert.deepEqual(h.received[0]?.snapshot?.meta, snapshot.meta);
  });

  it('reports a peer without an address unreachable and its snapshot failed', async (t) => {
    const h = await harness(t);
    const snapshot = { meta: { index: 9, term: 2, conf: new Uint8Array() }, data: new Uint8Array() };
    h.transport.send([msg('heartbeat', { to: 'z' }), msg('snapshot', { to: 'z', snapshot })]);
    assert.deepEqual(h.reports, ['unreachable z', 'snapshot z false', 'unreachable z']);
  });

  it('reports a peer whose calls fail unreachable', async (t) => {
    const h = await harness(t);
    // Port 1 on loopback refuses connections.
    h.transport.setPeer('b', '127.0.0.1:1');
    h.transport.send([msg('heartbeat')]);
    await waitFor('an unreachable report', 5000, () => (h.reports.length > 0 ? true : undefined));
    assert.deepEqual(h.reports, ['unreachable b']);
    assert.equal(h.transport.stats('b')?.failedCalls, 1);
  });

  it('bounds the queue of a peer, dropping the oldest', async (t) => {
    const h = await harness(t, 2);
    h.transport.setPeer('b', '127.0.0.1:1');
    h.transport.send([1, 2, 3, 4, 5].map((commit) => msg('heartbeat', { commit })));
    assert.equal(h.transport.stats('b')?.dropped, 3);
  });
});
