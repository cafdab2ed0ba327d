/**
 * Raft snapshots and log compaction with real processes: three `opengslb --mode cluster` nodes with
 * snapshot_threshold 20 take snapshots while overrides are written; a fourth node joining after compaction
 * catches up through InstallSnapshot and holds the same overrides and events; after a restart of every node
 * (from snapshot + log tail) the state is intact and every member's addresses are still known, including the
 * bootstrap node's (its conf entry, long compacted, is the only place they were logged). Addresses 127.0.48.x.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { OverwatchService } from '../../internal/gen/opengslb/v1/admin_pb.js';
import { createClient } from '../../internal/grpc/client.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { agreedLeader } from '../testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  createClusterProcs,
  removeClusterProcs,
  runOf,
  startClusterProc,
} from '../testkit/cluster-procs.js';
import { deleteOverride, eventsOf, overridesOf, putOverride } from '../testkit/observe-decisions.js';
import { metricValue } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const A = '127.0.48.2';
const B = '127.0.48.3';
const THRESHOLD = 20;
const WRITES = 60;

/** What must agree between nodes: overrides and the event trail (ids, backends, transitions, reasons). */
interface State {
  overrides: string[];
  events: string[];
}

async function stateOf(n: ClusterProc): Promise<State> {
  const run = runOf(n);
  return {
    overrides: (await overridesOf(run)).map((o) => JSON.stringify([o.target, o.action, o.reason, o.created])),
    events: (await eventsOf(run)).map((e) =>
      JSON.stringify([e.id, e.backend, e.from, e.to, e.reason, e.source]),
    ),
  };
}

/**
 * Resolves once `n` has the overrides of `want()` and its events start with want()'s (health checks may add
 * events at any time); the last difference is in the timeout message.
 */
async function sameState(n: ClusterProc, want: () => Promise<State>, what: string): Promise<void> {
  await waitFor(
    what,
    async () => {
      const [got, w] = await Promise.all([stateOf(n), want()]);
      const i = w.events.findIndex((e, k) => e !== got.events[k]);
      if (i < 0 && JSON.stringify(got.overrides) === JSON.stringify(w.overrides)) return true;
      throw new Error(
        `${n.id}: overrides ${got.overrides.join()} want ${w.overrides.join()}; ${got.events.length} events ` +
          `(want at least ${w.events.length}), first difference at ${i}: ${got.events.slice(i, i + 2).join()} ` +
          `want ${w.events.slice(i, i + 2).join()}`,
      );
    },
    5000,
  );
}

function snapshotFiles(n: ClusterProc): string[] {
  return readdirSync(join(n.data.path, 'raft')).filter((f) => f.endsWith('.snap'));
}

describe('cluster mode: snapshots and log compaction', () => {
  let backends: TestBackend[] = [];
  let config = '';
  let nodes: ClusterProc[] = [];
  let expected: State = { overrides: [], events: [] };

  const start = (n: ClusterProc) => startClusterProc(n, config);

  before(async () => {
    backends = await startBackends([A, B]);
    nodes = await createClusterProcs(4);
    const [n1, n2, n3, n4] = nodes as [ClusterProc, ClusterProc, ClusterProc, ClusterProc];
    n3.args = ['--join', n1.raft];
    n4.args = ['--join', `${n2.raft},${n3.raft}`];
    config = clusterConfig(nodes, {
      name: NAME,
      servers: backends.map((b) => ({ address: b.address, port: b.port })),
      raft: { heartbeat_timeout: '300ms', election_timeout: '300ms', snapshot_threshold: THRESHOLD },
    });
  });

  after(async () => {
    await removeClusterProcs(nodes);
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('snapshots every threshold while overrides are written', async () => {
    const three = nodes.slice(0, 3);
    for (const n of three) await start(n);
    const leader = await waitFor('one leader over three voters', () => agreedLeader(three, 3), 15_000);
    const [a, b] = backends.map((x) => `${x.address}:${x.port}`) as [string, string];
    for (let i = 0; i < WRITES; i++) {
      // Writes go to every node in turn: followers forward them, so all paths feed the log.
      const run = runOf(three[i % 3] as ClusterProc);
      const res =
        i % 6 === 5
          ? await deleteOverride(run, NAME, b)
          : await putOverride(run, NAME, i % 2 === 0 ? a : b, {
              action: i % 4 === 0 ? 'drain' : 'force_unhealthy',
              reason: `write ${i}`,
            });
      assert.equal(res.status, 200, `write ${i}: ${JSON.stringify(res.body)}`);
    }
    const indexes = await waitFor(
      'a snapshot on every node (opengslb_cluster_snapshot_index)',
      async () => {
        const v = await Promise.all(
          three.map(
            async (n) => metricValue(await runOf(n).metrics(), 'opengslb_cluster_snapshot_index') ?? 0,
          ),
        );
        return v.every((x) => x >= WRITES - THRESHOLD) ? v : undefined;
      },
      5000,
    );
    for (const n of three) assert.ok(snapshotFiles(n).length > 0, `${n.id} has a snapshot file`);
    expected = await stateOf(leader);
    assert.deepEqual(
      expected.overrides.map((o) => (JSON.parse(o) as string[])[2]),
      ['write 58'],
      'the last write to backend A holds; B was cleared',
    );
    for (const n of three) {
      await sameState(n, async () => expected, `${n.id} to match the leader`);
    }
    assert.ok(indexes.length === 3);
  });

  it('catches up a node that joins after compaction with InstallSnapshot', async () => {
    const n4 = nodes[3] as ClusterProc;
    await start(n4);
    const leader = await waitFor('four voters', () => agreedLeader(nodes, 4), 15_000);
    await sameState(n4, () => stateOf(leader), 'node-4 to hold the leader state');
    expected = await stateOf(leader);
    assert.match(
      runOf(n4).output(),
      /restoring a leader snapshot/,
      'node-4 got its state by InstallSnapshot',
    );
  });

  it('restarts every node from snapshot + tail, with state and member addresses intact', async () => {
    await Promise.all(nodes.map((n) => n.run?.stop()));
    for (const n of nodes) n.run = undefined;
    await Promise.all(nodes.map((n) => start(n)));
    const leader = await waitFor('four voters after the restart', () => agreedLeader(nodes, 4), 15_000);
    for (const n of nodes) {
      await sameState(n, async () => expected, `${n.id} state after the restart`);
      assert.match(runOf(n).output(), /restoring the stored snapshot/, `${n.id} started from its snapshot`);
    }
    // Every member's addresses on every node, the bootstrap node's included.
    for (const n of nodes) {
      const admin = createClient(OverwatchService, `127.0.0.1:${n.ports.grpc}`, credentials.createInsecure());
      try {
        const { members } = await admin.listMembers({}, { timeoutMs: 5000 });
        const seen = members.map((m) => `${m.id} ${m.address} ${m.apiAddress} ${m.dnsAddress}`).sort();
        const want = nodes.map((x) => `${x.id} ${x.raft} 127.0.0.1:${x.ports.api} 127.0.0.1:${x.ports.dns}`);
        assert.deepEqual(seen, want, `members as ${n.id} sees them (leader ${leader.id})`);
      } finally {
        admin.$close();
      }
    }
  });
});
