/**
 * First end-to-end cluster (deployment guide steps 2-4): three real `opengslb --mode cluster` processes on
 * loopback with one configuration and per-node listener flags. node-1 bootstraps, node-2 joins through node-1,
 * node-3 through node-1 or node-2. One leader answers DNS, followers answer REFUSED; SIGKILL the leader and
 * another takes over within 5 s; the killed node restarts from its data directory as a follower. Writes on a
 * follower (REST, gRPC admin) are forwarded to the leader; SIGTERM on the leader hands leadership off before
 * exiting; with no leader writes answer 503 + Retry-After (REST) / UNAVAILABLE (gRPC). Addresses 127.0.47.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { OverrideAction, OverwatchService } from '../../internal/gen/opengslb/v1/admin_pb.js';
import { createClient } from '../../internal/grpc/client.js';
import { GrpcError } from '../../internal/grpc/grpc-error.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { agreedLeader, clusterStatusOf, describeClusterProcs } from '../testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  createClusterProcs,
  killClusterProc,
  removeClusterProcs,
  startClusterProc,
} from '../testkit/cluster-procs.js';
import { deleteOverride, overridePath, overridesOf, putOverride } from '../testkit/observe-decisions.js';
import { metricValue, type RunningOpengslb, rcodeOf } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const BACKEND = '127.0.47.2';
const FAILOVER_MS = 5000;
/** cluster.raft.election_timeout below. */
const ELECTION_MS = 300;
const LEADER_CHANGES = 'opengslb_cluster_leader_changes_total';

describe('cluster mode: three processes', () => {
  let backends: TestBackend[] = [];
  let config = '';
  let nodes: ClusterProc[] = [];
  const start = (n: ClusterProc) => startClusterProc(n, config);

  before(async () => {
    backends = await startBackends([BACKEND]);
    nodes = await createClusterProcs(3);
    // One configuration for all three; each node's listeners come from its flags.
    config = clusterConfig(nodes, {
      name: NAME,
      servers: [{ address: BACKEND, port: backends[0]?.port ?? 0 }],
      raft: { heartbeat_timeout: '300ms', election_timeout: '300ms' },
    });
  });

  after(async () => {
    await removeClusterProcs(nodes);
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('forms a three-voter cluster with one leader that alone answers DNS', async () => {
    for (const n of nodes) await start(n);
    const leader = await waitFor('one leader over three voters', () => agreedLeader(nodes, 3), 15_000);
    await waitFor(
      `${NAME} from leader ${leader.id}`,
      async () => ((await leader.run?.addresses(NAME))?.join() === BACKEND ? true : undefined),
      5000,
    );
    for (const n of nodes.filter((x) => x !== leader)) {
      const r = await n.run?.udp(NAME);
      assert.ok(r !== undefined);
      assert.equal(rcodeOf(r), 'REFUSED', `${n.id} is a follower`);
      assert.equal((await n.run?.api('/api/v1/cluster/health'))?.status, 503);
    }
    assert.equal((await leader.run?.api('/api/v1/cluster/health'))?.status, 200);
    // Raft gauges follow the node's status (refreshed every second).
    const gauges = await waitFor(
      'term and applied index in /metrics',
      async () => {
        const text = (await leader.run?.metrics()) ?? '';
        const term = metricValue(text, 'opengslb_cluster_term') ?? 0;
        const applied = metricValue(text, 'opengslb_cluster_applied_index') ?? 0;
        return term > 0 && applied > 0 ? { term, applied, text } : undefined;
      },
      5000,
    );
    assert.equal(metricValue(gauges.text, 'opengslb_cluster_is_leader'), 1);
    assert.ok((metricValue(gauges.text, 'opengslb_cluster_commit_index') ?? 0) >= gauges.applied);
  });

  it('forwards writes on a follower to the leader; the follower sees its own write at once', async () => {
    const leader = await waitFor('one leader', () => agreedLeader(nodes, 3), 5000);
    const target = `${BACKEND}:${backends[0]?.port ?? 0}`;
    const [f1, f2] = nodes.filter((x) => x !== leader) as [ClusterProc, ClusterProc];
    assert.ok(f1.run !== undefined && f2.run !== undefined && leader.run !== undefined);
    const put = await putOverride(f1.run, NAME, target, { action: 'drain', reason: 'maintenance' });
    assert.equal(put.status, 200, `${f1.id} forwards: ${JSON.stringify(put.body)}`);
    assert.ok(
      (await overridesOf(f1.run)).some((o) => o.address === BACKEND),
      `${f1.id} applied before answering`,
    );
    // The decision the drain causes was made and applied before the 200: the leader's very next answer has
    // the backend out (its only backend, so SERVFAIL: nothing healthy to give).
    assert.equal(
      rcodeOf(await leader.run.udp(NAME)),
      'SERVFAIL',
      `${leader.id} answers without the drained backend`,
    );
    for (const n of [leader, f2]) {
      const run = n.run;
      assert.ok(run !== undefined);
      await waitFor(
        `the override on ${n.id}`,
        async () => ((await overridesOf(run)).some((o) => o.address === BACKEND) ? true : undefined),
        5000,
      );
    }
    assert.equal((await deleteOverride(f2.run, NAME, target)).status, 200);
    assert.equal((await overridesOf(f2.run)).length, 0, `${f2.id} applied the clear before answering`);
    assert.deepEqual(
      await leader.run.addresses(NAME),
      [BACKEND],
      `${leader.id} answers with it again at once`,
    );
    await waitFor(
      `no override on ${leader.id}`,
      async () => ((await overridesOf(leader.run as RunningOpengslb)).length === 0 ? true : undefined),
      5000,
    );

    // The same over the gRPC admin service.
    const admin = createClient(OverwatchService, `127.0.0.1:${f1.ports.grpc}`, credentials.createInsecure());
    try {
      const backend = { service: NAME, address: BACKEND, port: backends[0]?.port ?? 0 };
      const set = await admin.setOverride(
        { backend, reason: 'grpc maintenance', action: OverrideAction.DRAIN },
        { timeoutMs: 5000 },
      );
      assert.equal(set.override?.backend?.address, BACKEND);
      assert.ok((await overridesOf(f1.run)).some((o) => o.address === BACKEND));
      await admin.clearOverride({ backend }, { timeoutMs: 5000 });
      assert.equal((await overridesOf(f1.run)).length, 0);
    } finally {
      admin.$close();
    }
  });

  it('elects a new leader within 5 s of a SIGKILL, and the killed node rejoins as a follower', async () => {
    const old = await waitFor('one leader', () => agreedLeader(nodes, 3), 5000);
    assert.ok(old.run !== undefined);
    await killClusterProc(old);
    const killedAt = performance.now();
    const next = await waitFor('a new leader', () => agreedLeader(nodes, 3), FAILOVER_MS);
    assert.notEqual(next.id, old.id);
    await waitFor(
      `${NAME} from new leader ${next.id}`,
      async () => ((await next.run?.addresses(NAME))?.join() === BACKEND ? true : undefined),
      Math.max(0, FAILOVER_MS - (performance.now() - killedAt)),
    );

    await start(old);
    const after = await waitFor('the same leader over all three', () => agreedLeader(nodes, 3), 10_000).catch(
      async (e: unknown) => {
        throw new Error(`${String(e)}\n${await describeClusterProcs(nodes)}`);
      },
    );
    assert.equal(after.id, next.id);
    const st = await clusterStatusOf(old);
    assert.equal(st.is_leader, false);
    assert.equal(st.state, 'follower');
    const restarted = old.run as RunningOpengslb | undefined;
    const r = await restarted?.udp(NAME);
    assert.ok(r !== undefined);
    assert.equal(rcodeOf(r), 'REFUSED');
  });

  it('hands leadership off on SIGTERM: a new leader without an election timeout, exit 0', async () => {
    const old = await waitFor('one leader', () => agreedLeader(nodes, 3), 5000);
    const survivors = nodes.filter((n) => n !== old);
    const changes = async (n: ClusterProc): Promise<number> =>
      metricValue((await (n.run as RunningOpengslb).metrics()) ?? '', LEADER_CHANGES) ?? Number.NaN;
    const before = await Promise.all(survivors.map(changes));
    const run = old.run;
    assert.ok(run !== undefined);
    const sentAt = performance.now();
    run.signal('SIGTERM');
    const code = await run.exited;
    const exitMs = performance.now() - sentAt;
    old.run = undefined;
    assert.equal(code, 0, run.output());
    assert.ok(exitMs < 5000, `exited after ${Math.round(exitMs)} ms`);
    // By the time the old leader has exited, a survivor leads (it waited for the hand-off), so the
    // survivors agree on the new leader well within one election timeout of the exit.
    const next = await waitFor('a new leader', () => agreedLeader(nodes, 3), ELECTION_MS);
    assert.notEqual(next.id, old.id);
    const afterChanges = await Promise.all(survivors.map(changes));
    assert.deepEqual(
      afterChanges,
      before.map((b) => b + 1),
      'one leader change on each survivor',
    );
    await waitFor(
      `${NAME} from new leader ${next.id}`,
      async () => ((await next.run?.addresses(NAME))?.join() === BACKEND ? true : undefined),
      1000,
    );
    await start(old);
    await waitFor('all three again', () => agreedLeader(nodes, 3), 10_000);
  });

  it('answers writes with 503 + Retry-After / UNAVAILABLE when there is no leader', async () => {
    const leader = await waitFor('one leader', () => agreedLeader(nodes, 3), 5000);
    const [lone, other] = nodes.filter((x) => x !== leader) as [ClusterProc, ClusterProc];
    for (const n of [leader, other]) await killClusterProc(n);
    const run = lone.run;
    assert.ok(run !== undefined);
    await waitFor(
      'no leader known',
      async () => ((await clusterStatusOf(lone)).leader_id === '' ? true : undefined),
      5000,
    );
    const target = `${BACKEND}:${backends[0]?.port ?? 0}`;
    const res = await fetch(`http://127.0.0.1:${run.ports.api}${overridePath(NAME, target)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'drain', reason: 'no leader' }),
    });
    assert.equal(res.status, 503, await res.text());
    assert.equal(res.headers.get('retry-after'), '1');
    const admin = createClient(OverwatchService, `127.0.0.1:${run.ports.grpc}`, credentials.createInsecure());
    try {
      await assert.rejects(
        () =>
          admin.setOverride(
            {
              backend: { service: NAME, address: BACKEND, port: backends[0]?.port ?? 0 },
              reason: 'no leader',
              action: OverrideAction.DRAIN,
            },
            { timeoutMs: 5000 },
          ),
        (e: unknown) => e instanceof GrpcError && e.code === status.UNAVAILABLE,
      );
    } finally {
      admin.$close();
    }
  });
});
