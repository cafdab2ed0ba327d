/**
 * A wiped node-1 must not silently start a second cluster next to the first (issue #5). The seed guide keeps
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
import { rcodeOf } from '../testkit/opengslb.js';
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
    // The old cluster is intact: one leader among the other two, still counting three members.
    const leader = await waitFor('the old cluster to have a leader', () => agreedLeader(others, 3), 10_000);
    const answer = await runOf(leader).udp(NAME);
    assert.equal(rcodeOf(answer), 'NOERROR');
  });
});
