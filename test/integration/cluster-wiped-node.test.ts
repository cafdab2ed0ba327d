/**
 * Nodes that lost their data directory (issue #5).
 *
 * A wiped joiner (the seed guide keeps `--join` on node-2 and node-3 for good) asks to join again under its old
 * name. Taking it back as it is would let a voter that forgot its term and vote vote twice, so the leader refuses:
 * the node exits at once saying to remove it first, and after `opengslbctl members remove` it joins afresh.
 *
 * A wiped node-1 must not silently start a second cluster next to the first. The seed guide keeps
 * `--bootstrap` on node-1 for good; if its data directory is lost, it bootstraps a brand-new one-node cluster
 * on restart. The old cluster still counts node-1 as a member and keeps calling it by name: node-1 refuses
 * those calls (another cluster id), notices it is wanted elsewhere, stops answering DNS, reports 503 on
 * /api/v1/cluster/health and logs what to do; the other two keep their cluster and its leader.
 * Addresses 127.0.46.x.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import {
  agreedLeader,
  clusterStatusOf,
  describeClusterProcs,
  jsonLogLines,
} from '../testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  createClusterProcs,
  killClusterProc,
  removeClusterProcs,
  runOf,
  startClusterProc,
} from '../testkit/cluster-procs.js';
import { runCtl } from '../testkit/ctl.js';
import { metricValue, rcodeOf } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const BACKEND = '127.0.46.2';
const CONFLICT = 'this node bootstrapped a new cluster, but members of another cluster';

describe('cluster mode: a wiped bootstrap node', () => {
  let backends: TestBackend[] = [];
  let config = '';
  let nodes: ClusterProc[] = [];

  before(async () => {
    backends = await startBackends([BACKEND]);
    nodes = await createClusterProcs(3);
    config = clusterConfig(nodes, {
      name: NAME,
      servers: [{ address: BACKEND, port: backends[0]?.port ?? 0 }],
      raft: { heartbeat_timeout: '300ms', election_timeout: '300ms' },
    });
    for (const n of nodes) await startClusterProc(n, config);
    await waitFor('one leader over three voters', () => agreedLeader(nodes, 3), 15_000);
  });

  after(async () => {
    await removeClusterProcs(nodes);
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('a wiped joiner is refused until it is removed, then joins afresh', async () => {
    const n3 = nodes[2] as ClusterProc;
    assert.equal(n3.args[0], '--join', 'node-3 keeps --join, as the seed guide does');
    await killClusterProc(n3);
    rmSync(n3.data.path, { recursive: true, force: true });
    mkdirSync(n3.data.path);
    await assert.rejects(startClusterProc(n3, config), (e: unknown) => {
      assert.match(String(e), /exited with 1 during startup/);
      assert.match(String(e), /join refused by .*"node-3" is already a member of this cluster/);
      assert.match(String(e), /opengslbctl members remove node-3/);
      return true;
    });
    const leader = await waitFor(
      'a leader among node-1 and node-2',
      () => agreedLeader(nodes.slice(0, 2), 3),
      10_000,
    );
    // The leader no longer hears node-3: OpenGSLBClusterSizeReduced's series drops to 2.
    const membersUp = async (n: ClusterProc) =>
      metricValue(await runOf(n).metrics(), 'opengslb_cluster_members');
    await waitFor(
      'the leader to count 2 members up',
      async () => ((await membersUp(leader)) === 2 ? true : undefined),
      5000,
    );
    const removed = await runCtl(runOf(leader), ['members', 'remove', 'node-3']);
    assert.equal(removed.code, 0, removed.stderr);
    await startClusterProc(n3, config);
    await waitFor(
      'node-3 back as a voter, one leader over three',
      () => agreedLeader(nodes, 3),
      15_000,
    ).catch(async (e: unknown) => assert.fail(`${String(e)}\n${await describeClusterProcs(nodes)}`));
    const now = await waitFor('a leader over three', () => agreedLeader(nodes, 3), 5000);
    await waitFor(
      'the leader to count 3 members up',
      async () => ((await membersUp(now)) === 3 ? true : undefined),
      5000,
    );
  });

  it('refuses to serve after a restart with --bootstrap on an empty data dir, and the cluster keeps going', async () => {
    const [n1, ...others] = nodes as [ClusterProc, ...ClusterProc[]];
    assert.deepEqual(n1.args, ['--bootstrap'], 'node-1 keeps --bootstrap, as the seed guide does');
    await killClusterProc(n1);
    rmSync(n1.data.path, { recursive: true, force: true });
    mkdirSync(n1.data.path);
    await startClusterProc(n1, config);
    // The survivors still have node-1 in their configuration and call it with their cluster id.
    const line = await waitFor(
      'node-1 to notice that its old cluster still wants it',
      () => jsonLogLines(runOf(n1).output()).find((l) => l.msg.startsWith(CONFLICT)),
      10_000,
    ).catch(async (e: unknown) => assert.fail(`${String(e)}\n${await describeClusterProcs(nodes)}`));
    assert.ok(typeof line.other_cluster_id === 'string' && line.other_cluster_id !== line.cluster_id);
    assert.match(line.msg, /start it with --join instead of --bootstrap/);
    // Its own one-node cluster elects it (state "leader"), yet it neither answers DNS nor claims to lead.
    await waitFor(
      'node-1 to lead its own new cluster',
      async () => ((await clusterStatusOf(n1)).state === 'leader' ? true : undefined),
      5000,
    );
    assert.equal((await clusterStatusOf(n1)).is_leader, false, 'is_leader stays false while in conflict');
    for (let i = 0; i < 5; i++) {
      const r = await runOf(n1).udp(NAME);
      assert.equal(rcodeOf(r), 'REFUSED', `query ${i} to the wiped node`);
    }
    assert.equal((await runOf(n1).api('/api/v1/cluster/health')).status, 503);
    // The gauge agrees with REST (the sum(opengslb_cluster_is_leader) > 1 alert must not fire on it).
    await waitFor(
      'opengslb_cluster_is_leader 0 on the wiped node',
      async () =>
        metricValue(await runOf(n1).metrics(), 'opengslb_cluster_is_leader') === 0 ? true : undefined,
      3000,
    );
    // The old cluster is intact: one leader among the other two, still counting three members.
    const leader = await waitFor('the old cluster to have a leader', () => agreedLeader(others, 3), 10_000);
    const answer = await runOf(leader).udp(NAME);
    assert.equal(rcodeOf(answer), 'NOERROR');
  });
});
