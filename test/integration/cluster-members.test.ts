/**
 * Cluster membership operations against three real `opengslb --mode cluster` processes: `opengslbctl members`
 * lists every member with its Raft, gossip, gRPC, REST and DNS addresses; `opengslbctl transfer-leader NODE`
 * makes NODE lead, sent to the leader or forwarded by a follower; `opengslbctl members remove` on a follower removes
 * another follower through the leader, then the leader itself (it hands leadership over first), and refuses
 * unknown ids and the last voter. With cluster.raft.tls three nodes form a cluster over mutual TLS and a node
 * whose certificate another CA signed cannot join. Loopback 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createTlsFixtures,
  opensslMissing,
  type TlsFixtures,
} from '../../internal/grpc/testkit/tls-fixtures.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { agreedLeader, clusterMembersOf } from '../testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  clusterProcArgs,
  createClusterProc,
  createClusterProcs,
  removeClusterProcs,
  runOf,
  startClusterProc,
} from '../testkit/cluster-procs.js';
import type { RaftYaml } from '../testkit/config.js';
import { runCtl } from '../testkit/ctl.js';
import { OPENGSLB_BIN, rcodeOf } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const BACKEND = '127.0.0.1';

/** Three nodes (node-1 bootstraps, the others join) with `extraRaft()` merged into cluster.raft. */
function clusterHarness(extraRaft: () => RaftYaml) {
  let backends: TestBackend[] = [];
  let config = '';
  const nodes: ClusterProc[] = [];
  const configWith = (raft: RaftYaml): string =>
    clusterConfig(nodes, {
      name: NAME,
      servers: [{ address: BACKEND, port: backends[0]?.port ?? 0 }],
      raft: { heartbeat_timeout: '300ms', election_timeout: '300ms', ...raft },
    });
  return {
    nodes,
    configWith,
    async setUp(): Promise<void> {
      backends = await startBackends([BACKEND]);
      nodes.push(...(await createClusterProcs(3, { gossip: true })));
      config = configWith(extraRaft());
      for (const n of nodes) await startClusterProc(n, config);
    },
    async tearDown(): Promise<void> {
      await removeClusterProcs(nodes);
      await Promise.all(backends.map((b) => b.stop()));
    },
  };
}

describe('cluster membership: members, transfer-leader, members remove', () => {
  const h = clusterHarness(() => ({}));
  before(() => h.setUp());
  after(() => h.tearDown());

  it('lists every member with its Raft, gossip, gRPC, REST and DNS addresses (ctl and REST)', async () => {
    const leader = await waitFor('one leader over three voters', () => agreedLeader(h.nodes, 3), 15_000);
    const follower = h.nodes.find((n) => n !== leader) as ClusterProc;
    const res = await runCtl(runOf(follower), ['members']);
    assert.equal(res.code, 0, res.stderr);
    for (const n of h.nodes) {
      const row = res.stdout.split('\n').find((l) => l.startsWith(`${n.id} `)) ?? '';
      for (const part of [
        n === leader ? 'Leader' : 'Follower',
        'true',
        n.raft,
        n.gossip as string,
        `127.0.0.1:${n.ports.grpc}`,
        `127.0.0.1:${n.ports.api}`,
        `127.0.0.1:${n.ports.dns}`,
      ])
        assert.ok(row.includes(part), `row of ${n.id} has ${part}:\n${res.stdout}`);
    }
    const rest = await clusterMembersOf(follower);
    assert.deepEqual(
      rest.map((m) => [m.id, m.address, m.is_voter, m.gossip_address]),
      h.nodes.map((n) => [n.id, n.raft, true, n.gossip]),
    );
  });

  it('transfer-leader NODE makes NODE lead, sent to the leader or forwarded by a follower', async (t) => {
    const leader = await waitFor('one leader', () => agreedLeader(h.nodes, 3), 5000);
    const [a, b] = h.nodes.filter((n) => n !== leader) as [ClusterProc, ClusterProc];
    let startedAt = performance.now();
    const res = await runCtl(runOf(leader), ['transfer-leader', b.id]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), `leader is now ${b.id}`);
    let next = await waitFor('the named node leads everywhere', () => agreedLeader(h.nodes, 3), 2000);
    assert.equal(next.id, b.id);
    t.diagnostic(`transfer-leader on the leader took ${Math.round(performance.now() - startedAt)} ms`);

    // Sent to a follower (the old leader), naming the other follower: forwarded over the Raft port.
    startedAt = performance.now();
    const forwarded = await runCtl(runOf(leader), ['transfer-leader', a.id]);
    assert.equal(forwarded.code, 0, forwarded.stderr);
    assert.equal(forwarded.stdout.trim(), `leader is now ${a.id}`);
    next = await waitFor('the named node leads everywhere', () => agreedLeader(h.nodes, 3), 2000);
    assert.equal(next.id, a.id);
    t.diagnostic(`forwarded transfer-leader took ${Math.round(performance.now() - startedAt)} ms`);

    const unknown = await runCtl(runOf(b), ['transfer-leader', 'node-9']);
    assert.equal(unknown.code, 1, unknown.stdout);
    assert.match(unknown.stderr, /NOT_FOUND.*node-9 is not a member/);
  });

  it('members remove: unknown id refused; a follower removed via another follower; the leader removes itself last-but-one', async () => {
    const leader = await waitFor('one leader', () => agreedLeader(h.nodes, 3), 5000);
    const [a, b] = h.nodes.filter((n) => n !== leader) as [ClusterProc, ClusterProc];
    const unknown = await runCtl(runOf(a), ['members', 'remove', 'node-9']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /NOT_FOUND.*"node-9" is not a member/);

    // Sent to follower b, removing follower a: forwarded to the leader.
    const res = await runCtl(runOf(b), ['members', 'remove', a.id]);
    assert.equal(res.code, 0, res.stderr);
    const rest = [leader, b];
    await waitFor('two voters', () => agreedLeader(rest, 2), 5000);
    const ctlMembers = await runCtl(runOf(leader), ['members']);
    assert.equal(
      ctlMembers.stdout.trim().split('\n').length,
      3,
      `header + two members:\n${ctlMembers.stdout}`,
    );
    assert.ok(!ctlMembers.stdout.includes(a.id), ctlMembers.stdout);
    assert.deepEqual(await runOf(leader).addresses(NAME), [BACKEND]);
    await waitFor(
      `${a.id} logs its removal`,
      () => (runOf(a).output().includes('was removed from the cluster configuration') ? true : undefined),
      5000,
    );
    assert.equal(rcodeOf(await runOf(a).udp(NAME)), 'REFUSED', 'a removed node does not answer DNS');
    await runOf(a).stop();
    a.run = undefined;

    // The leader removes itself: it hands leadership to b first, then b removes it.
    const self = await runCtl(runOf(leader), ['members', 'remove', leader.id]);
    assert.equal(self.code, 0, self.stderr);
    assert.match(self.stdout, new RegExp(`leader: ${b.id}`));
    await waitFor(`${b.id} leads alone`, () => agreedLeader([b], 1), 5000);
    await waitFor(
      `${NAME} from ${b.id}`,
      async () => ((await runOf(b).addresses(NAME)).join() === BACKEND ? true : undefined),
      3000,
    );
    const last = await runCtl(runOf(b), ['members', 'remove', b.id]);
    assert.equal(last.code, 1);
    assert.match(last.stderr, /FAILED_PRECONDITION.*last voter/);
  });
});

describe('cluster membership: mutual TLS on the Raft port', { skip: opensslMissing() }, () => {
  let pki: TlsFixtures | undefined;
  const h = clusterHarness(() => ({
    tls: { cert_file: pki?.peerCert, key_file: pki?.peerKey, ca_file: pki?.caCert },
  }));
  before(async () => {
    pki = createTlsFixtures();
    await h.setUp();
  });
  after(async () => {
    await h.tearDown();
    pki?.remove();
  });

  it('three nodes form a cluster over mutual TLS', async () => {
    await waitFor('one leader over three voters', () => agreedLeader(h.nodes, 3), 15_000);
  });

  it('a node whose certificate another CA signed cannot join; the members do not change', async () => {
    assert.ok(pki !== undefined);
    const leader = await waitFor('one leader', () => agreedLeader(h.nodes, 3), 5000);
    const dir = mkdtempSync(join(tmpdir(), 'opengslb-rogue-'));
    const configPath = join(dir, 'config.yaml');
    writeFileSync(
      configPath,
      h.configWith({
        tls: { cert_file: pki.otherPeerCert, key_file: pki.otherPeerKey, ca_file: pki.caCert },
      }),
    );
    const rogue = await createClusterProc('node-4', { gossip: true });
    rogue.args = ['--join', leader.raft];
    // Spawned directly: startOpengslb waits for readiness, which a node that cannot join never reaches.
    const proc = spawn(
      process.execPath,
      [OPENGSLB_BIN, '--config', configPath, '--data-dir', rogue.data.path, ...clusterProcArgs(rogue)],
      { env: { PATH: process.env['PATH'] }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const closed = new Promise<void>((resolve) => proc.on('close', () => resolve()));
    try {
      // Two refused attempts (one per retry round), so the refusal is not a one-off connection race.
      await waitFor(
        'two refused join attempts in the rogue node log',
        () => ((out.match(/join attempt failed/g) ?? []).length >= 2 ? true : undefined),
        10_000,
      );
      assert.match(out, /signed by the CA the members trust/, 'the log says what to check');
      assert.deepEqual(
        (await clusterMembersOf(leader)).map((m) => m.id),
        ['node-1', 'node-2', 'node-3'],
      );
      assert.ok(!(await clusterMembersOf(leader)).some((m) => m.id === 'node-4'));
    } finally {
      proc.kill('SIGKILL');
      await closed;
      rmSync(dir, { recursive: true, force: true });
      rogue.data.remove();
    }
    await waitFor('the cluster still has one leader over three voters', () => agreedLeader(h.nodes, 3), 5000);
  });
});
