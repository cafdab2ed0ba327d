import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { startRaftNode } from './node.js';
import { encodeMemberAddresses } from './raft-wire.js';
import { resolveSnapshotPolicy } from './snapshot-policy.js';
import type { Storage } from './storage.js';
import { createMemoryStorage } from './storage-memory.js';
import { retryDropped, startMember, TEST_CLUSTER, testLogger, waitFor } from './testkit/grpc-cluster.js';
import type { Transport } from './transport.js';

const CONVERGE_MS = 10_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

describe('raft node snapshots (in-memory storage)', () => {
  const nullTransport = (): Transport => ({
    send: () => {},
    setPeer: () => {},
    removePeer: () => {},
    close: async () => {},
  });
  /** A one-voter node whose state machine is the list of applied values; reports what it applied and restored. */
  function solo(storage: Storage) {
    const sm = { values: [] as string[], applies: 0, restored: [] as { index: number; members: string[] }[] };
    const node = startRaftNode({
      id: 'solo',
      clusterId: TEST_CLUSTER,
      storage,
      transport: nullTransport,
      heartbeatTimeoutMs: 20,
      rand: { int: () => 0 },
      log: testLogger(),
      bootstrap: true,
      bootstrapContext: encodeMemberAddresses({ raft: '127.0.0.1:7001', api: '127.0.0.1:8081' }),
      snapshots: {
        policy: resolveSnapshotPolicy({ thresholdEntries: 10, intervalMs: 60_000, trailingEntries: 3 }),
        capture: () => enc.encode(JSON.stringify(sm.values)),
      },
      apply: (e) => {
        sm.applies++;
        if (e.kind === 'normal') sm.values.push(dec.decode(e.data));
      },
      restore: (state, meta, members) => {
        sm.values = JSON.parse(dec.decode(state)) as string[];
        sm.restored.push({ index: meta.index, members: [...members].map(([id, a]) => `${id}=${a.api}`) });
      },
    });
    return { node, sm };
  }

  it('compacts every threshold, keeps trailing entries, and restarts from the snapshot plus the tail', async (t) => {
    const storage = createMemoryStorage();
    const first = solo(storage);
    t.after(() => first.node.stop());
    const values = Array.from({ length: 35 }, (_, i) => `v${i}`);
    for (const v of values)
      await retryDropped(`propose ${v}`, CONVERGE_MS, () => first.node.propose(enc.encode(v)));
    const snap = storage.snapshot();
    assert.ok(snap !== undefined, 'a snapshot was taken');
    const last = storage.lastIndex();
    assert.ok(
      snap.meta.index > last - 10,
      `snapshot ${snap.meta.index} within one threshold of the last index ${last}`,
    );
    assert.equal(storage.firstIndex(), snap.meta.index - 3 + 1, 'three trailing entries kept');
    await first.node.stop();

    const again = solo(storage);
    t.after(() => again.node.stop());
    await waitFor('the restarted node to apply the tail', CONVERGE_MS, () =>
      again.node.status().applied >= last ? true : undefined,
    );
    assert.deepEqual(again.sm.restored, [{ index: snap.meta.index, members: ['solo=127.0.0.1:8081'] }]);
    assert.deepEqual(again.sm.values.slice(0, values.length), values, 'state = snapshot + replayed tail');
    assert.ok(
      again.sm.applies <= last - snap.meta.index + 1,
      `replayed ${again.sm.applies} entries, at most the ${last - snap.meta.index} after the snapshot (+ a new no-op)`,
    );
    const ctx = storage.entries(storage.firstIndex(), storage.lastIndex() + 1);
    assert.ok(
      ctx.every((e) => e.kind === 'normal'),
      'the bootstrap conf entry was compacted away',
    );
  });
});

describe('raft node snapshots over gRPC', () => {
  it('sends a lagging learner an InstallSnapshot with the address book, and it restarts from it', async (t) => {
    const log = testLogger();
    const policy = resolveSnapshotPolicy({ thresholdEntries: 10, intervalMs: 60_000, trailingEntries: 2 });
    const opts = { heartbeatTimeoutMs: 100, log, snapshots: policy };
    const m1 = await startMember(t, { ...opts, id: 'n1', seed: 7, bootstrap: true });
    const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
    for (const v of values)
      await retryDropped(`propose ${v}`, CONVERGE_MS, () => m1.node.propose(enc.encode(v)));
    const snaps = (await readdir(m1.dir)).filter((f) => f.endsWith('.snap'));
    assert.ok(snaps.length > 0, `n1 wrote snapshots: ${JSON.stringify(await readdir(m1.dir))}`);

    // n2 is added after compaction: entry 1 is gone from n1's log, so only InstallSnapshot can catch it up.
    const m2 = await startMember(t, { ...opts, id: 'n2', seed: 8, peers: { n1: m1.address } });
    const context = encodeMemberAddresses({ raft: m2.address });
    await retryDropped('add-learner n2', CONVERGE_MS, () =>
      m1.node.proposeConfChange({ type: 'add-learner', node: 'n2', context }),
    );
    await waitFor(
      'n2 to catch up',
      CONVERGE_MS,
      () => (m2.applied.length === values.length ? true : undefined),
      () => ({ n1: m1.node.status(), n2: m2.node.status() }),
    );
    assert.deepEqual(m2.applied, m1.applied);
    const installed = m2.restores[0];
    assert.ok(installed !== undefined && installed.index > 1, 'n2 restored a snapshot from n1');
    assert.deepEqual(
      installed.members,
      { n1: m1.address },
      'the bootstrap node address rode in the snapshot',
    );

    // Restarted from its data dir, n2 restores its stored snapshot, then replays only the rest.
    await m2.kill();
    const m2b = await startMember(t, { ...opts, id: 'n2', seed: 9, dir: m2.dir, port: m2.port });
    await waitFor('restarted n2 to apply everything', CONVERGE_MS, () =>
      m2b.applied.length === values.length ? true : undefined,
    );
    assert.deepEqual(m2b.applied, m1.applied);
    assert.ok(
      (m2b.restores[0]?.index ?? 0) >= installed.index,
      'restarted n2 started from a stored snapshot',
    );
  });
});
