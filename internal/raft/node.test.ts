import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { RaftService } from '../gen/opengslb/v1/raft_pb.js';
import { GrpcError } from '../grpc/grpc-error.js';
import { clientFor } from '../grpc/testkit/loopback.js';
import { encodeConfState } from './core/conf-change.js';
import { ProposalDroppedError } from './core/errors.js';
import type { Message } from './core/message.js';
import { RaftStoppedError, startRaftNode } from './node.js';
import { encodeMemberAddresses } from './raft-wire.js';
import { encodeSnapshotData } from './snapshot-data.js';
import { createMemoryStorage } from './storage-memory.js';
import {
  type Member,
  retryDropped,
  startMember,
  TEST_CLUSTER,
  testLogger,
  waitFor,
} from './testkit/grpc-cluster.js';
import type { Transport } from './transport.js';

/** Short timeouts keep the test fast; the bounds below are generous multiples for loaded CI machines. */
const HEARTBEAT_TIMEOUT_MS = 100;
const CONVERGE_MS = 10_000;
const SEED = Number(process.env['RAFT_TEST_SEED'] ?? 20240501);

const leaderOf = (members: Member[]): Member | undefined =>
  members.find((m) => m.alive && m.node.status().role === 'leader');

const describeMembers = (members: Member[]) =>
  members.map((m) =>
    m.alive
      ? (({ id, role, term, leader, commit, applied, lastIndex, conf }) => ({
          id,
          role,
          term,
          leader,
          commit,
          applied,
          lastIndex,
          conf,
        }))(m.node.status())
      : { id: m.id, dead: true },
  );

/**
 * Proposes `values` concurrently at the current leader (so they batch), then retries any that a leadership
 * change dropped, one by one at whoever leads then. Order across retries is not fixed; callers compare nodes.
 */
async function proposeAll(members: Member[], values: string[]): Promise<void> {
  const enc = new TextEncoder();
  const current = () => {
    const l = leaderOf(members);
    if (l === undefined) throw new ProposalDroppedError('not-leader', '', 'no leader among the members');
    return l.node;
  };
  const first = await retryDropped('find a leader', CONVERGE_MS, async () => current());
  const results = await Promise.allSettled(values.map((v) => first.propose(enc.encode(v))));
  for (const [i, r] of results.entries()) {
    if (r.status === 'fulfilled') continue;
    if (!(r.reason instanceof ProposalDroppedError)) throw r.reason;
    const v = values[i] ?? '';
    await retryDropped(`propose ${v}`, CONVERGE_MS, () => current().propose(enc.encode(v)));
  }
}

describe(`raft node over gRPC (seed ${SEED}, RAFT_TEST_SEED to replay)`, () => {
  it('grows to three voters, replicates in order, fails over and catches a restarted node up', async (t) => {
    const log = testLogger();
    const opts = { heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, log };
    const m1 = await startMember(t, { ...opts, id: 'n1', seed: SEED, bootstrap: true });
    const members: Member[] = [m1];
    const state = () => describeMembers(members);
    await waitFor('n1 to lead', CONVERGE_MS, () => leaderOf([m1]), state);

    for (const [i, id] of ['n2', 'n3'].entries()) {
      const m = await startMember(t, { ...opts, id, seed: SEED + i + 1, peers: { n1: m1.address } });
      members.push(m);
      const context = encodeMemberAddresses({ raft: m.address });
      const leader = () => leaderOf(members)?.node ?? m1.node;
      await retryDropped(`add-learner ${id}`, CONVERGE_MS, () =>
        leader().proposeConfChange({ type: 'add-learner', node: id, context }),
      );
      // Promote only once the learner holds the whole log, so the new quorum can commit at once.
      await waitFor(
        `${id} to catch up as a learner`,
        CONVERGE_MS,
        () => {
          const st = leader().status();
          return (st.progress?.[id]?.match ?? 0) >= st.lastIndex ? true : undefined;
        },
        state,
      );
      await retryDropped(`promote ${id}`, CONVERGE_MS, () =>
        leader().proposeConfChange({ type: 'promote', node: id }),
      );
    }
    const leader = await waitFor('a leader', CONVERGE_MS, () => leaderOf(members), state);
    assert.deepEqual(leader.node.status().conf, { voters: ['n1', 'n2', 'n3'], learners: [] });

    const values = Array.from({ length: 50 }, (_, i) => `v${i}`);
    await proposeAll(members, values);
    await waitFor('all three to apply 50 entries', CONVERGE_MS, () =>
      members.every((m) => m.applied.length === 50) ? true : undefined,
    );
    assert.deepEqual([...(members[0]?.applied ?? [])].sort(), [...values].sort(), 'every value applied once');
    for (const m of members) assert.deepEqual(m.applied, members[0]?.applied, `entries applied by ${m.id}`);

    const follower = members.find((m) => m.node.status().role === 'follower');
    assert.ok(follower !== undefined);
    const lastWrite = Math.max(...members.map((m) => m.node.status().applied));
    const readAt = await retryDropped('follower read', CONVERGE_MS, () => follower.node.readIndex());
    assert.ok(readAt >= lastWrite, `follower read index ${readAt} covers the last write ${lastWrite}`);

    // Fail-over: whoever leads now goes away entirely (found and killed without an await in between).
    const victim = await waitFor('a leader', CONVERGE_MS, () => leaderOf(members), state);
    const oldTerm = victim.node.status().term;
    const killedAt = performance.now();
    const killed = victim.kill();
    const survivors = members.filter((m) => m !== victim);
    await killed;
    const next = await waitFor(
      'a new leader among the survivors',
      20 * HEARTBEAT_TIMEOUT_MS,
      () => {
        const l = leaderOf(survivors);
        return l !== undefined && l.node.status().term > oldTerm ? l : undefined;
      },
      () => describeMembers(survivors),
    );
    t.diagnostic(`new leader ${next.id} after ${Math.round(performance.now() - killedAt)} ms`);
    const more = ['w0', 'w1', 'w2'];
    await proposeAll(survivors, more);

    // The old leader restarts from its data directory on its old address and catches up.
    const restarted = await startMember(t, {
      ...opts,
      id: victim.id,
      seed: SEED + 10,
      dir: victim.dir,
      port: victim.port,
    });
    members[members.indexOf(victim)] = restarted;
    const reference = survivors[0];
    assert.ok(reference !== undefined);
    await waitFor(
      `${restarted.id} to catch up after its restart`,
      CONVERGE_MS,
      () => (restarted.applied.length === 53 && reference.applied.length === 53 ? true : undefined),
      state,
    );
    assert.deepEqual(restarted.applied, reference.applied, `entries applied by restarted ${restarted.id}`);
    await waitFor('the restarted node to know the leader', CONVERGE_MS, () =>
      restarted.node.status().leader !== '' ? true : undefined,
    );

    // A node of another cluster is refused before anything reaches the core.
    const client = clientFor(t, RaftService, next.address);
    const foreign = { type: 'heartbeat', from: 'x', to: next.id, clusterId: 'other-cluster', term: 99n };
    await assert.rejects(client.appendEntries({ messages: [foreign] }, { timeoutMs: 2000 }), (e: unknown) => {
      assert.ok(e instanceof GrpcError);
      assert.equal(e.code, status.FAILED_PRECONDITION);
      assert.match(e.message, new RegExp(`other-cluster.*${TEST_CLUSTER}`));
      return true;
    });
    assert.ok(next.node.status().term < 99, 'the foreign term did not reach the core');
  });
});

describe('raft node requests', () => {
  const nullTransport = (): Transport => ({
    send: () => {},
    setPeer: () => {},
    removePeer: () => {},
    close: async () => {},
  });
  const start = (bootstrap = false) =>
    startRaftNode({
      bootstrap,
      id: 'solo',
      clusterId: TEST_CLUSTER,
      storage: createMemoryStorage(),
      transport: nullTransport,
      heartbeatTimeoutMs: 50,
      rand: { int: () => 0 },
      log: testLogger(),
      apply: () => {},
    });

  it('refuses a proposal on a follower with ProposalDroppedError not-leader', async (t) => {
    const node = start();
    t.after(() => node.stop());
    await assert.rejects(node.propose(new Uint8Array([1])), (e: unknown) => {
      assert.ok(e instanceof ProposalDroppedError);
      assert.equal(e.reason, 'not-leader');
      return true;
    });
  });

  it('a single voter holds the lease while it leads; readIndex() callers are unaffected', async (t) => {
    const node = start(true);
    t.after(() => node.stop());
    assert.equal(node.hasLease(performance.now()), false, 'no lease as a follower');
    await waitFor('solo to lead with a lease', CONVERGE_MS, () =>
      node.hasLease(performance.now()) ? true : undefined,
    );
    assert.equal(node.status().role, 'leader');
    assert.ok((await node.readIndex()) >= 1, 'a read alongside the lease reads is answered');
    // Every tick renews it: it holds at each of 20 samples a tick apart (none can slip between renewals).
    for (let i = 0; i < 20; i++) {
      assert.equal(node.hasLease(performance.now()), true, `sample ${i}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(node.lastContact(), undefined, 'a leader records no contact with a leader');
  });

  it('rejects requests after stop with RaftStoppedError', async () => {
    const node = start();
    await node.stop();
    await assert.rejects(node.propose(new Uint8Array([1])), RaftStoppedError);
    await assert.rejects(node.readIndex(), RaftStoppedError);
  });
});

describe('raft node leader lease', () => {
  const HB_MS = 100;
  /**
   * Peers b and c scripted in the transport: while `acking`, they grant every (pre-)vote and acknowledge
   * appends and heartbeats (echoing read contexts), one macrotask later, as a network would.
   */
  async function scripted(t: import('node:test').TestContext) {
    const storage = createMemoryStorage();
    const conf = encodeConfState({ voters: ['a', 'b', 'c'], learners: [] });
    await storage.installSnapshot({
      meta: { index: 1, term: 1, conf },
      data: encodeSnapshotData({ members: new Map(), state: new Uint8Array(0) }),
    });
    const peer = { acking: true };
    const reply = (m: Message): Message | undefined => {
      const base = { from: m.to, to: m.from, clusterId: TEST_CLUSTER, term: m.term };
      switch (m.type) {
        case 'pre-vote':
          return { ...base, type: 'pre-vote-resp' };
        case 'vote':
          return { ...base, type: 'vote-resp' };
        case 'append':
          return { ...base, type: 'append-resp', index: (m.index ?? 0) + (m.entries?.length ?? 0) };
        case 'heartbeat':
          return { ...base, type: 'heartbeat-resp', ...(m.context ? { context: m.context } : {}) };
        default:
          return undefined;
      }
    };
    const holder: { node?: ReturnType<typeof startRaftNode> } = {};
    const node = startRaftNode({
      id: 'a',
      clusterId: TEST_CLUSTER,
      storage,
      transport: (): Transport => ({
        send(msgs) {
          if (!peer.acking) return;
          for (const m of msgs) {
            const r = reply(m);
            if (r !== undefined) setImmediate(() => holder.node?.step(r));
          }
        },
        setPeer: () => {},
        removePeer: () => {},
        close: async () => {},
      }),
      heartbeatTimeoutMs: HB_MS,
      rand: { int: () => 0 },
      log: testLogger(),
      apply: () => {},
    });
    holder.node = node;
    t.after(() => node.stop());
    return { node, peer };
  }

  it('holds the lease while a quorum acknowledges and loses it within 0.75 T once acks stop', async (t) => {
    const { node, peer } = await scripted(t);
    await waitFor('a to lead with a lease', CONVERGE_MS, () =>
      node.hasLease(performance.now()) ? true : undefined,
    );
    peer.acking = false;
    const cut = performance.now();
    const lost = await waitFor('the lease to expire', CONVERGE_MS, () =>
      node.hasLease(performance.now()) ? undefined : performance.now(),
    );
    const role = node.status().role;
    t.diagnostic(`lease lost ${Math.round(lost - cut)} ms after the last ack; role then: ${role}`);
    // The last confirmed read was issued before the cut, so the lease ends within leaseMs of it; polling
    // (timers of >= 1 ms) adds a little. Check-quorum steps down only after a whole T: the lease goes first.
    assert.ok(lost - cut <= 0.75 * HB_MS + 20, `lease held ${lost - cut} ms after acks stopped`);
    assert.equal(role, 'leader', 'the lease expired before check-quorum deposed the leader');
  });

  it('drops the lease when a transfer starts and records no lease on a follower', async (t) => {
    const { node } = await scripted(t);
    await waitFor('a to lead with a lease', CONVERGE_MS, () =>
      node.hasLease(performance.now()) ? true : undefined,
    );
    node.transferLeadership('b');
    assert.equal(node.status().transferee, 'b');
    assert.equal(node.hasLease(performance.now()), false, 'no lease once the transfer started');
  });

  it('records the last contact from the leader on a follower', async (t) => {
    const storage = createMemoryStorage();
    const conf = encodeConfState({ voters: ['a', 'b'], learners: [] });
    await storage.installSnapshot({
      meta: { index: 1, term: 1, conf },
      data: encodeSnapshotData({ members: new Map(), state: new Uint8Array(0) }),
    });
    const node = startRaftNode({
      id: 'a',
      clusterId: TEST_CLUSTER,
      storage,
      transport: (): Transport => ({
        send: () => {},
        setPeer: () => {},
        removePeer: () => {},
        close: async () => {},
      }),
      heartbeatTimeoutMs: 10_000,
      rand: { int: () => 0 },
      log: testLogger(),
      apply: () => {},
    });
    t.after(() => node.stop());
    assert.equal(node.lastContact(), undefined);
    const before = performance.now();
    node.step({ type: 'heartbeat', from: 'b', to: 'a', clusterId: TEST_CLUSTER, term: 2, commit: 1 });
    const at = node.lastContact();
    assert.ok(at !== undefined && at >= before, `lastContact ${at} after ${before}`);
    // A stale term's heartbeat is not from the current leader.
    node.step({ type: 'heartbeat', from: 'c', to: 'a', clusterId: TEST_CLUSTER, term: 1, commit: 1 });
    assert.equal(node.lastContact(), at);
    assert.equal(node.hasLease(performance.now()), false);
  });
});
