import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvariantError } from '../errors.js';
import type { Storage } from '../storage.js';
import { createMemoryStorage } from '../storage-memory.js';
import { decodeConfChange, decodeConfState, encodeConfState } from './conf-change.js';
import { ProposalDroppedError, SnapshotOutOfDateError } from './errors.js';
import { describeEntry } from './message.js';
import { createRaft } from './raw-node.js';
import type { RaftCore, Ready } from './ready.js';

const enc = new TextEncoder();

function node(storage: Storage, applied?: number): RaftCore {
  return createRaft({
    id: '1',
    clusterId: 'c',
    electionTicks: 10,
    heartbeatTicks: 1,
    storage,
    rand: { int: () => 0 },
    ...(applied !== undefined ? { applied } : {}),
  });
}

/** Handles one Ready in contract order; returns what was applied. */
async function handle(raft: RaftCore, storage: Storage): Promise<{ rd: Ready; applied: string[] }> {
  const rd = raft.ready();
  if (rd.snapshot !== undefined) await storage.installSnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
  if (rd.mustSync) await storage.sync();
  raft.advance(rd);
  return { rd, applied: rd.committed.map(describeEntry) };
}

async function drain(raft: RaftCore, storage: Storage): Promise<string[]> {
  const applied: string[] = [];
  while (raft.hasReady()) applied.push(...(await handle(raft, storage)).applied);
  return applied;
}

describe('createRaft', () => {
  it('bootstraps a single-node cluster that elects itself and commits alone', async () => {
    const storage = createMemoryStorage();
    const raft = node(storage);
    raft.bootstrap();
    const { rd } = await handle(raft, storage);
    assert.deepEqual(rd.hardState, { term: 1, vote: '', commit: 1 });
    assert.equal(rd.mustSync, true);
    assert.deepEqual(rd.entries.map(describeEntry), ['1/1 conf add-voter 1']);
    assert.deepEqual(rd.committed.map(describeEntry), ['1/1 conf add-voter 1']);
    raft.campaign();
    assert.equal(raft.status().role, 'leader');
    raft.propose(enc.encode('x'));
    assert.deepEqual(await drain(raft, storage), ['2/2 ""', '3/2 "x"']);
    const st = raft.status();
    assert.deepEqual([st.term, st.commit, st.applied, st.lastIndex], [2, 3, 3, 3]);
    assert.deepEqual(st.conf, { voters: ['1'], learners: [] });
    assert.equal(storage.hardState().vote, '1');
  });

  it('refuses to bootstrap a node that has state', async () => {
    const storage = createMemoryStorage();
    const raft = node(storage);
    raft.bootstrap();
    await drain(raft, storage);
    assert.throws(
      () => node(storage).bootstrap(),
      /bootstrap: node already has state \(term 1, lastIndex 1\)/,
    );
  });

  it('enforces one outstanding Ready', async () => {
    const storage = createMemoryStorage();
    const raft = node(storage);
    raft.bootstrap();
    const rd = raft.ready();
    assert.equal(raft.hasReady(), false);
    assert.throws(() => raft.ready(), InvariantError);
    assert.throws(() => raft.advance({ ...rd }), /not the Ready returned by the last ready\(\)/);
    raft.advance(rd);
    assert.equal(raft.hasReady(), false);
  });

  it('restarts from storage and re-delivers entries after `applied`', async () => {
    const storage = createMemoryStorage();
    const raft = node(storage);
    raft.bootstrap();
    raft.campaign();
    for (const d of ['a', 'b', 'c']) raft.propose(enc.encode(d));
    await drain(raft, storage);
    const again = node(storage, 3);
    assert.deepEqual(await drain(again, storage), ['4/2 "b"', '5/2 "c"']);
    assert.equal(again.status().role, 'follower');
    assert.throws(() => node(storage, 9), /applied 9 is outside the log \[0, 5\]/);
  });

  it('builds snapshots only of applied state, recording the configuration', async () => {
    const storage = createMemoryStorage();
    const raft = node(storage);
    raft.bootstrap();
    raft.campaign();
    await drain(raft, storage);
    assert.throws(() => raft.createSnapshot(3, new Uint8Array()), /index 3 is beyond applied 2/);
    const snap = raft.createSnapshot(2, enc.encode('state'));
    assert.deepEqual([snap.meta.index, snap.meta.term], [2, 2]);
    assert.deepEqual(decodeConfState(snap.meta.conf), { ok: true, value: { voters: ['1'], learners: [] } });
    await storage.saveSnapshot(snap, 0);
    // A restart from the snapshot alone keeps the configuration.
    const again = node(storage);
    assert.deepEqual(again.status().conf, { voters: ['1'], learners: [] });
    assert.equal(again.status().applied, 2);
  });

  it('carries the bootstrap context in the first conf entry', async () => {
    const storage = createMemoryStorage();
    const raft = node(storage);
    raft.bootstrap(enc.encode('addresses of 1'));
    await drain(raft, storage);
    const [first] = storage.entries(1, 2);
    const cc = first === undefined ? undefined : decodeConfChange(first.data);
    assert.deepEqual(cc, {
      ok: true,
      value: { type: 'add-voter', node: '1', context: enc.encode('addresses of 1') },
    });
  });

  // The hazard the simulator found (seed 96, crashes, 5 nodes): a local snapshot below a leader's pending one.
  it('refuses a local snapshot while a leader snapshot is pending, and one at or below the stored one', async () => {
    const storage = createMemoryStorage();
    const raft = node(storage);
    raft.bootstrap();
    raft.campaign();
    await drain(raft, storage);
    const leaderSnap = {
      meta: { index: 10, term: 5, conf: encodeConfState({ voters: ['1', '2'], learners: [] }) },
      data: enc.encode('leader state'),
    };
    raft.step({ type: 'snapshot', from: '2', to: '1', clusterId: 'c', term: 5, snapshot: leaderSnap });
    assert.throws(
      () => raft.createSnapshot(2, enc.encode('local')),
      (e: unknown) => e instanceof SnapshotOutOfDateError && /leader at 10 is pending/.test(e.message),
    );
    await drain(raft, storage);
    assert.equal(storage.snapshot()?.meta.index, 10);
    assert.throws(() => raft.createSnapshot(10, enc.encode('local')), /storage has a snapshot at 10/);
  });

  it('refuses requests it cannot serve with typed errors', () => {
    const raft = node(createMemoryStorage());
    assert.throws(
      () => raft.propose(enc.encode('x')),
      (e: unknown) => e instanceof ProposalDroppedError && e.reason === 'not-leader' && e.leaderHint === '',
    );
    assert.throws(() => raft.readIndex(new Uint8Array()), /readIndex: context must be non-empty/);
    assert.throws(() => raft.transferLeadership('2'), ProposalDroppedError);
    assert.throws(() => raft.proposeConfChange({ type: 'add-voter', node: '2' }), ProposalDroppedError);
  });

  it('does not campaign without being a voter', () => {
    const raft = node(createMemoryStorage());
    for (let i = 0; i < 30; i++) raft.tick();
    assert.equal(raft.status().role, 'follower');
    assert.equal(raft.hasReady(), false);
  });
});
