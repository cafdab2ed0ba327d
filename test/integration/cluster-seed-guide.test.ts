/**
 * The cluster deployment guide's steps 2-4 verbatim on loopback (seeds/opengslb-cluster-deployment-guide.md):
 * step 1's configuration with the backends on 127.0.48.x (real HTTP backends) and loopback admitted to the API;
 * node-1 started with the environment-variable variant of step 2 (`opengslb --config FILE` and
 * OPENGSLB_CLUSTER_*), nodes 2 and 3 with step 3's flags. Ports: the seed's 7000/8080/9090/53 become free ports
 * and, because the three nodes share one machine, each node's listeners come from OPENGSLB_* variables. Checks
 * the "Expected output" lines (pino JSON, same messages and fields) and that step 4's responses have the seed's
 * shape (plus the issue's term, commit_index and last_applied).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import {
  agreedLeader,
  type ClusterMemberJson,
  jsonLogLines,
  type LogLine,
} from '../testkit/cluster-observe.js';
import { type ClusterProc, createClusterProcs, removeClusterProcs } from '../testkit/cluster-procs.js';
import { startOpengslb } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const EAST = ['127.0.48.10', '127.0.48.11'];
const WEST = '127.0.48.20';

/** Step 1's file, adapted: loopback backends and allowed network; node listeners and data dir by environment. */
function stepOneConfig(port: number): string {
  return `dns:
  listen_address: ":53"
  default_ttl: 60

regions:
  - name: us-east-1
    servers:
      - address: "${EAST[0]}"
        port: ${port}
        weight: 100
      - address: "${EAST[1]}"
        port: ${port}
        weight: 100
    health_check:
      type: http
      interval: 10s
      timeout: 5s
      path: /health
      failure_threshold: 3
      success_threshold: 2

  - name: us-west-2
    servers:
      - address: "${WEST}"
        port: ${port}
        weight: 100
    health_check:
      type: http
      interval: 10s
      timeout: 5s
      path: /health

domains:
  - name: app.example.com
    routing_algorithm: weighted
    regions:
      - us-east-1
      - us-west-2
    ttl: 30

logging:
  level: info
  format: json

metrics:
  enabled: true
  address: ":9090"

api:
  enabled: true
  address: ":8080"
  allowed_networks:
    - "10.0.0.0/8"
    - "172.16.0.0/12"
    - "127.0.0.0/8"

# Cluster configuration
cluster:
  mode: cluster

  raft:
    data_dir: /var/lib/opengslb/raft
    heartbeat_timeout: 1s
    election_timeout: 1s

  gossip:
    probe_interval: 1s
    probe_timeout: 500ms

  overwatch:
    external_check_interval: 30s
    veto_mode: balanced
    veto_threshold: 3

  predictive_health:
    enabled: true
    cpu:
      threshold: 80
    memory:
      threshold: 85
    error_rate:
      threshold: 5
      window: 60s
`;
}

/** The node's own listeners and data directory: what differs between nodes sharing one machine. */
function listenerEnv(n: ClusterProc): NodeJS.ProcessEnv {
  return {
    OPENGSLB_DNS_LISTEN_ADDRESS: `127.0.0.1:${n.ports.dns}`,
    OPENGSLB_API_ADDRESS: `127.0.0.1:${n.ports.api}`,
    OPENGSLB_METRICS_ADDRESS: `127.0.0.1:${n.ports.metrics}`,
    OPENGSLB_GRPC_ADDRESS: `127.0.0.1:${n.ports.grpc}`,
    OPENGSLB_CLUSTER_RAFT_DATA_DIR: n.data.path,
  };
}

/** The first line with `msg` whose fields include `fields`; undefined until it was logged. */
function findLine(
  lines: readonly LogLine[],
  msg: string,
  fields: Record<string, unknown> = {},
): LogLine | undefined {
  return lines.find((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
}

async function expectLines(n: ClusterProc, want: Array<[string, Record<string, unknown>]>): Promise<void> {
  const run = n.run;
  assert.ok(run !== undefined);
  await waitFor(
    `${n.id}'s expected output`,
    () => {
      const lines = jsonLogLines(run.output());
      return want.every(([msg, fields]) => findLine(lines, msg, fields) !== undefined) ? true : undefined;
    },
    10_000,
  ).catch((e: unknown) => {
    const lines = jsonLogLines(run.output());
    const missing = want.filter(([msg, fields]) => findLine(lines, msg, fields) === undefined);
    throw new Error(`${String(e)}: missing ${JSON.stringify(missing)}\n${run.output()}`);
  });
  // Every expected line is at INFO, as in the guide.
  const lines = jsonLogLines(run.output());
  for (const [msg, fields] of want) assert.equal(findLine(lines, msg, fields)?.level, 'info', msg);
}

describe('deployment guide steps 2-4, verbatim on loopback', () => {
  let backends: TestBackend[] = [];
  let nodes: ClusterProc[] = [];
  let config = '';

  before(async () => {
    backends = await startBackends([...EAST, WEST]);
    config = stepOneConfig(backends[0]?.port ?? 0);
    nodes = await createClusterProcs(3);
  });

  after(async () => {
    await removeClusterProcs(nodes);
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('step 2: node-1 bootstraps from environment variables alone', async () => {
    const n1 = nodes[0] as ClusterProc;
    n1.run = await startOpengslb({
      config,
      ports: n1.ports,
      dataDir: null,
      // The expected lines are checked below; readiness (first health round) is not part of steps 2-3.
      waitReady: false,
      args: [],
      env: {
        OPENGSLB_CLUSTER_MODE: 'cluster',
        OPENGSLB_CLUSTER_NODE_NAME: 'node-1',
        OPENGSLB_CLUSTER_BIND_ADDRESS: n1.raft,
        OPENGSLB_CLUSTER_BOOTSTRAP: 'true',
        ...listenerEnv(n1),
      },
    });
    await expectLines(n1, [
      ['OpenGSLB starting', { mode: 'cluster' }],
      ['initializing cluster mode components', { node_name: 'node-1' }],
      ['Raft node started', {}],
      ['leader elected', { leader_id: 'node-1' }],
      ['this node is now the cluster leader', {}],
      ['DNS server initialized', { address: `127.0.0.1:${n1.ports.dns}`, cluster_mode: true }],
      ['OpenGSLB running', {}],
    ]);
    const starting = findLine(jsonLogLines(n1.run.output()), 'OpenGSLB starting');
    assert.equal(typeof starting?.['version'], 'string');
  });

  it('step 3: node-2 and node-3 join with the guide flags', async () => {
    const [n1, n2, n3] = nodes as [ClusterProc, ClusterProc, ClusterProc];
    const joins: Array<[ClusterProc, string]> = [
      [n2, n1.raft],
      [n3, `${n1.raft},${n2.raft}`],
    ];
    for (const [n, join] of joins) {
      n.run = await startOpengslb({
        config,
        ports: n.ports,
        dataDir: null,
        waitReady: false,
        args: ['--mode', 'cluster', '--node-name', n.id, '--bind-address', n.raft, '--join', join],
        env: listenerEnv(n),
      });
      await expectLines(n, [
        ['OpenGSLB starting', { mode: 'cluster' }],
        ['initializing cluster mode components', { node_name: n.id }],
        ['Raft node started', {}],
        ['joined cluster', { leader_id: 'node-1' }],
        ['this node is now a follower', {}],
        ['DNS queries will be refused (not leader)', {}],
      ]);
    }
  });

  it('step 4: cluster status and members have the seed shape on every node', async () => {
    const [n1] = nodes as [ClusterProc];
    const leader = await waitFor('three voters led by node-1', () => agreedLeader(nodes, 3), 20_000);
    assert.equal(leader.id, 'node-1');
    for (const n of nodes) {
      const run = n.run;
      assert.ok(run !== undefined);
      for (const query of ['', '?consistent=true']) {
        const res = await run.api(`/api/v1/cluster/status${query}`);
        assert.equal(res.status, 200);
        const body = res.body as Record<string, unknown>;
        assert.deepEqual(Object.keys(body).sort(), [
          'cluster_size',
          'commit_index',
          'is_leader',
          'last_applied',
          'leader_address',
          'leader_id',
          'mode',
          'node_id',
          'state',
          'term',
        ]);
        const { term, commit_index, last_applied, ...seed } = body;
        assert.deepEqual(seed, {
          mode: 'cluster',
          node_id: n.id,
          is_leader: n === n1,
          leader_id: 'node-1',
          leader_address: n1.raft,
          cluster_size: 3,
          state: n === n1 ? 'leader' : 'follower',
        });
        assert.ok(typeof term === 'number' && term >= 1);
        assert.ok(typeof commit_index === 'number' && typeof last_applied === 'number');
        assert.ok(last_applied <= commit_index);
      }
      const members = await run.api('/api/v1/cluster/members');
      assert.equal(members.status, 200);
      const list = (members.body as { members: ClusterMemberJson[] }).members;
      // The seed's four keys, plus each member's service addresses (documented in docs/cluster.md).
      const seedKeys = ['address', 'id', 'is_voter', 'state'] as const;
      const extra = ['api_address', 'dns_address', 'gossip_address', 'grpc_address'];
      for (const m of list) assert.deepEqual(Object.keys(m).sort(), [...seedKeys, ...extra].sort());
      const seedShape = list.map((m) => Object.fromEntries(seedKeys.map((k) => [k, m[k]])));
      assert.deepEqual(seedShape, [
        { id: 'node-1', address: n1.raft, state: 'Leader', is_voter: true },
        { id: 'node-2', address: (nodes[1] as ClusterProc).raft, state: 'Follower', is_voter: true },
        { id: 'node-3', address: (nodes[2] as ClusterProc).raft, state: 'Follower', is_voter: true },
      ]);
    }
    // Option B of step 5 follows: the leader answers, followers refuse.
    const answered = await waitFor(
      `${NAME} from node-1`,
      async () => {
        const got = await n1.run?.addresses(NAME).catch(() => undefined);
        return got !== undefined && got.length > 0 ? got : undefined;
      },
      10_000,
    );
    for (const a of answered) assert.ok([...EAST, WEST].includes(a), a);
  });
});
