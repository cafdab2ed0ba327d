/**
 * Network cuts against three real `opengslb --mode cluster` processes (issue #5, tests 3). Each node binds its
 * Raft port R and advertises a fault proxy's address (test/testkit/fault-proxy.ts), so every Raft connection
 * between nodes goes through the proxy of the node it dials. Isolating a node cuts its own proxy and, on the
 * other proxies, the connections it opened (found by owner pid): a symmetric partition, minority of one. A
 * one-way cut (only the leader's inbound proxy) is tested too: the leader's messages still arrive, but no reply
 * reaches it.
 *
 * Every node is queried over UDP DNS every few milliseconds for the whole test; the old leader's last NOERROR
 * answer must arrive within its lease (+ TOLERANCE_MS) of the cut, which is less than one election timeout, and
 * none after it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it, type TestContext } from 'node:test';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import {
  agreedLeader,
  allVoters,
  clusterMembersOf,
  clusterStatusOf,
  describeClusterProcs,
} from '../testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  createClusterProcs,
  healClusterProcs,
  isolateClusterProc,
  proxyOf,
  removeClusterProcs,
  startClusterProc,
} from '../testkit/cluster-procs.js';
import { deleteOverride, overridesOf, putOverride } from '../testkit/observe-decisions.js';
import { answerData, type RunningOpengslb, rcodeOf } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const BACKEND = '127.0.48.2';
/** cluster.raft.heartbeat_timeout and election_timeout below. */
const ELECTION_MS = 300;
/** The leader's DNS lease: 0.75 heartbeat_timeout from the last quorum contact (docs/cluster.md, Timeouts). */
const LEASE_MS = 0.75 * ELECTION_MS;
/**
 * Allowance on top of the lease for the last answer to arrive: the lease is checked per query on the node's
 * monotonic clock, but the answer it allowed reaches the poller late when the 2-core machine is loaded. Each run
 * prints what it measured (`answered NOERROR until N ms after it`).
 */
const TOLERANCE_MS = 250;
/** How long a cut lasts at least, so the isolated node runs several election timeouts on its own. */
const CUT_HOLD_MS = 5 * ELECTION_MS;
const POLL_EVERY_MS = 5;

/** One DNS answer seen by the poller; `at` is when it arrived (performance.now()). */
interface Answer {
  node: string;
  at: number;
  rcode: string;
  addresses: string[];
}

// The proxies tell connections apart by owner pid from /proc (test/testkit/fault-proxy.ts).
const skip = process.platform === 'linux' ? false : 'needs Linux /proc to isolate a node both ways';

describe('cluster mode: network partitions through fault proxies', { skip }, () => {
  let backends: TestBackend[] = [];
  let config = '';
  let nodes: ClusterProc[] = [];
  const answers: Answer[] = [];
  let polling = false;
  let poller: Promise<void> = Promise.resolve();

  /** Queries every running node every POLL_EVERY_MS until stopped (bounded by a 2-minute deadline). */
  function startPolling(): void {
    polling = true;
    const deadline = performance.now() + 120_000;
    poller = Promise.all(
      nodes.map(async (n) => {
        while (polling && performance.now() < deadline) {
          const run = n.run;
          if (run !== undefined) {
            try {
              const r = await run.udp(NAME);
              answers.push({
                node: n.id,
                at: performance.now(),
                rcode: rcodeOf(r),
                addresses: answerData(r, 'A'),
              });
            } catch (e: unknown) {
              // A timeout while a node restarts is expected; the assertions look only at answers received.
              answers.push({
                node: n.id,
                at: performance.now(),
                rcode: `error: ${String(e)}`,
                addresses: [],
              });
            }
          }
          await new Promise((r) => setTimeout(r, POLL_EVERY_MS)); // pacing, not synchronisation
        }
      }),
    ).then(() => undefined);
  }

  async function stopPolling(): Promise<void> {
    polling = false;
    await poller;
  }

  /**
   * Runs one cut of `old` (the leader) and checks: the other two elect a new leader that answers DNS; `old`
   * answers NOERROR no later than LEASE_MS + TOLERANCE_MS after the cut and never again while cut; an
   * override written on the majority reaches `old` after the heal, where the new leader stays the one leader.
   */
  async function partitionRound(
    t: TestContext,
    old: ClusterProc,
    cut: () => void,
    what: string,
  ): Promise<void> {
    await waitFor('every node sees three voters', () => allVoters(nodes, 3), 10_000);
    const majority = nodes.filter((n) => n !== old);
    await waitFor(
      `${NAME} from ${old.id} (the poller sees the leader answer)`,
      () => (answers.at(-1)?.node === old.id && answers.at(-1)?.rcode === 'NOERROR' ? true : undefined),
      5000,
      1,
    );
    const from = answers.length;
    const cutAt = performance.now();
    cut();
    const next = await waitFor(
      `a new leader of ${majority.map((n) => n.id)}`,
      () => agreedLeader(majority, 3),
      5000,
    ).catch(async (e: unknown) => {
      throw new Error(`${String(e)}\n${await describeClusterProcs(nodes)}`);
    });
    assert.notEqual(next.id, old.id);
    await waitFor(
      `${NAME} from new leader ${next.id}`,
      () =>
        answers
          .slice(from)
          .some((a) => a.node === next.id && a.rcode === 'NOERROR' && a.addresses.join() === BACKEND)
          ? true
          : undefined,
      5000,
    );
    const failoverMs = performance.now() - cutAt;
    const target = `${BACKEND}:${backends[0]?.port ?? 0}`;
    const put = await putOverride(next.run as RunningOpengslb, NAME, target, {
      action: 'drain',
      reason: what,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // Not synchronisation: the fault lasts several election timeouts so the cut-off node runs its own timers
    // (pre-votes, check-quorum) for a while before the heal.
    await waitFor(
      'the cut held long enough',
      () => (performance.now() - cutAt >= CUT_HOLD_MS ? true : undefined),
      CUT_HOLD_MS + 1000,
    );
    const oldStatus = await clusterStatusOf(old);
    assert.equal(oldStatus.is_leader, false, `${old.id} does not lead while cut off`);
    const healAt = performance.now();
    healClusterProcs(nodes);

    const during = answers.slice(from).filter((a) => a.node === old.id && a.at <= healAt);
    const lastNoError = during.filter((a) => a.rcode === 'NOERROR').at(-1);
    const stoppedMs = lastNoError === undefined ? 0 : lastNoError.at - cutAt;
    const refusedAfter = during.filter((a) => a.rcode === 'REFUSED' && a.at > cutAt + stoppedMs);
    t.diagnostic(
      `${what}: new leader ${next.id} answered ${Math.round(failoverMs)} ms after the cut; old leader ${old.id} ` +
        `answered NOERROR until ${Math.round(stoppedMs)} ms after it, then ${refusedAfter.length} REFUSED`,
    );
    assert.ok(
      stoppedMs <= LEASE_MS + TOLERANCE_MS,
      `${old.id} answered NOERROR ${Math.round(stoppedMs)} ms after the cut (limit: lease ${LEASE_MS} + ${TOLERANCE_MS})`,
    );
    assert.ok(
      refusedAfter.length > 10,
      `${old.id} kept answering (REFUSED) while cut: ${refusedAfter.length}`,
    );

    const healed = await waitFor(
      'one leader over all three after the heal',
      () => agreedLeader(nodes, 3),
      5000,
    );
    assert.equal(healed.id, next.id, 'the rejoining node does not disturb the new leader (pre-vote)');
    const st = await clusterStatusOf(old);
    assert.equal(st.state, 'follower');
    await waitFor(
      `the override written during the cut on ${old.id}`,
      async () =>
        (await overridesOf(old.run as RunningOpengslb)).some((o) => o.reason === what) ? true : undefined,
      5000,
    );
    // From its first REFUSED to now (after the heal, as a follower) the old leader never answers again.
    const mine = answers.slice(from).filter((a) => a.node === old.id);
    const firstRefused = mine.findIndex((a) => a.rcode === 'REFUSED');
    const again = mine.slice(firstRefused).find((a) => a.rcode === 'NOERROR');
    assert.equal(
      again,
      undefined,
      `${old.id} answered NOERROR ${Math.round((again?.at ?? 0) - cutAt)} ms after the cut`,
    );
    assert.equal((await deleteOverride(next.run as RunningOpengslb, NAME, target)).status, 200);
  }

  before(async () => {
    backends = await startBackends([BACKEND]);
    nodes = await createClusterProcs(3, { proxies: true });
    config = clusterConfig(nodes, {
      name: NAME,
      servers: [{ address: BACKEND, port: backends[0]?.port ?? 0 }],
      raft: { heartbeat_timeout: `${ELECTION_MS}ms`, election_timeout: `${ELECTION_MS}ms` },
    });
    for (const n of nodes) await startClusterProc(n, config);
  });

  after(async () => {
    // A failed round may leave a cut in place; heal first so a leader's SIGTERM hand-off can reach a peer.
    healClusterProcs(nodes);
    await stopPolling();
    await removeClusterProcs(nodes);
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('advertises the proxies: every member entry carries the proxy address, not the bound port', async () => {
    const leader = await waitFor('one leader over three voters', () => agreedLeader(nodes, 3), 15_000);
    const members = await clusterMembersOf(leader);
    for (const n of nodes) {
      const m = members.find((x) => x.id === n.id);
      assert.equal(m?.address, proxyOf(n).address, `${n.id} in ${JSON.stringify(members)}`);
    }
    await waitFor('every node sees three voters', () => allVoters(nodes, 3), 10_000);
    assert.ok(
      nodes.every((n) => proxyOf(n).stats().forwardedBytes > 0),
      'Raft traffic goes through every proxy',
    );
    startPolling();
    await waitFor(
      `${NAME} from leader ${leader.id}`,
      () => (answers.some((a) => a.node === leader.id && a.addresses.join() === BACKEND) ? true : undefined),
      5000,
    );
  });

  it('isolated leader (both ways): stops answering within its lease, rejoins as a follower', async (t) => {
    const old = await waitFor('one leader', () => agreedLeader(nodes, 3), 5000);
    await partitionRound(t, old, () => isolateClusterProc(nodes, old), 'isolated both ways');
    // The proxies cut the isolated node's own connections too (owner lookup worked).
    const others = nodes.filter((n) => n !== old);
    assert.ok(
      others.every((n) => proxyOf(n).stats().cutConnections > 0),
      `connections from ${old.id} were cut on ${others.map((n) => `${n.id}: ${JSON.stringify(proxyOf(n).stats())}`)}`,
    );
  });

  it("one-way cut (only the leader's inbound proxy): the leader hears no replies and steps down", async (t) => {
    const old = await waitFor('one leader', () => agreedLeader(nodes, 3), 5000);
    await partitionRound(t, old, () => proxyOf(old).cut(), 'inbound cut');
  });
});
