/**
 * The leader lease on the DNS path, with three real `opengslb --mode cluster` processes on loopback (backend
 * 127.0.48.2). A leader answers only while a quorum recently confirmed it (0.75 x heartbeat_timeout after a
 * confirmed read), checked per query on the monotonic clock:
 * - a SIGSTOPped leader's queued queries, handled after SIGCONT once the others elected a new leader, are
 *   never answered NOERROR; it rejoins as a follower;
 * - a leader whose followers are both SIGSTOPped stops answering within one election timeout and never answers
 *   NOERROR again until they are back;
 * - with `dns.serve_on: any` (set on one follower by SIGHUP) that follower answers while it hears from the
 *   leader and REFUSED once it has not for `dns.max_stale`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type dnsPacket from 'dns-packet';
import { queryUdp } from '../../internal/dns/client.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { agreedLeader, clusterStatusOf, describeClusterProcs } from '../testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  createClusterProcs,
  removeClusterProcs,
  runOf,
  startClusterProc,
} from '../testkit/cluster-procs.js';
import { answerData, rcodeOf } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const BACKEND = '127.0.48.2';
/** cluster.raft.heartbeat_timeout: followers time out in [T, 2T); the lease lasts 0.75 T. */
const HEARTBEAT_MS = 400;
/** cluster.raft.election_timeout. */
const ELECTION_MS = 800;
/** dns.max_stale in the serve_on: any case. */
const MAX_STALE_MS = 1000;
/** Scheduling slack on a loaded 2-core machine (timer lateness, query round trip, test polling). */
const TOLERANCE_MS = 200;
/** Every probe in a loop is bounded by this count as well as by its deadline. */
const MAX_PROBES = 400;

/** The leader every node in `group` agrees on, over three voters, once it answers A records; else undefined. */
async function servingLeader(group: readonly ClusterProc[]): Promise<ClusterProc | undefined> {
  const leader = await agreedLeader(group, 3);
  if (leader === undefined) return undefined;
  const r = await runOf(leader).udp(NAME);
  return rcodeOf(r) === 'NOERROR' && answerData(r, 'A').length > 0 ? leader : undefined;
}

/** A query with a long timeout: it may wait in the socket of a stopped process. */
const queryLate = (n: ClusterProc, timeoutMs: number): Promise<dnsPacket.DecodedPacket> =>
  queryUdp('127.0.0.1', n.ports.dns, NAME, 'A', { timeoutMs });

/** "NOERROR with an A record", "REFUSED", another rcode, or "no answer". */
async function outcome(p: Promise<dnsPacket.DecodedPacket>): Promise<string> {
  try {
    const r = await p;
    const rcode = rcodeOf(r);
    return rcode === 'NOERROR' && answerData(r, 'A').length > 0 ? 'answered' : rcode;
  } catch (e: unknown) {
    if (e instanceof Error && e.message.startsWith('DNS: no udp response')) return 'no answer';
    throw e;
  }
}

describe('cluster mode: the leader lease on the DNS path', () => {
  let backends: TestBackend[] = [];
  let nodes: ClusterProc[] = [];
  let baseConfig = '';

  const configWith = (dns: Record<string, string>): string =>
    baseConfig.replace(
      'dns:\n',
      `dns:\n${Object.entries(dns)
        .map(([k, v]) => `  ${k}: ${v}\n`)
        .join('')}`,
    );

  /** SIGCONT to every node, so a failed assertion never leaves a stopped process behind. */
  const resumeAll = (): void => {
    for (const n of nodes) n.run?.signal('SIGCONT');
  };

  before(async () => {
    backends = await startBackends([BACKEND]);
    nodes = await createClusterProcs(3);
    baseConfig = clusterConfig(nodes, {
      name: NAME,
      servers: [{ address: BACKEND, port: backends[0]?.port ?? 0 }],
      raft: { heartbeat_timeout: `${HEARTBEAT_MS}ms`, election_timeout: `${ELECTION_MS}ms` },
    });
    for (const n of nodes) await startClusterProc(n, baseConfig);
    await waitFor('a leader answering DNS over three nodes', () => servingLeader(nodes), 20_000);
  });

  after(async () => {
    resumeAll();
    await removeClusterProcs(nodes);
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('serve_on any: a follower answers while it hears from the leader, REFUSED after max_stale', async (t) => {
    const leader = await waitFor('a serving leader', () => servingLeader(nodes), 10_000);
    const [follower, other] = nodes.filter((n) => n !== leader) as [ClusterProc, ClusterProc];
    const run = runOf(follower);
    assert.equal(await outcome(run.udp(NAME)), 'REFUSED', 'serve_on leader (default): the follower refuses');
    run.writeConfig(configWith({ serve_on: 'any', max_stale: `${MAX_STALE_MS}ms` }));
    run.signal('SIGHUP');
    await waitFor(
      `${follower.id} to answer from its replicated state`,
      async () => ((await outcome(run.udp(NAME))) === 'answered' ? true : undefined),
      5000,
    );
    try {
      runOf(leader).signal('SIGSTOP');
      runOf(other).signal('SIGSTOP');
      const stoppedAt = performance.now();
      let lastAnswered = stoppedAt;
      let probes = 0;
      const refusedAt = await waitFor(
        `${follower.id} to refuse once stale`,
        async () => {
          if (++probes > MAX_PROBES) throw new Error(`gave up after ${MAX_PROBES} probes`);
          const o = await outcome(run.udp(NAME));
          if (o === 'answered') lastAnswered = performance.now();
          return o === 'REFUSED' ? performance.now() : undefined;
        },
        MAX_STALE_MS + 3000,
        10,
      );
      const after = await Promise.all(Array.from({ length: 5 }, () => outcome(run.udp(NAME))));
      t.diagnostic(
        `follower answered until ${Math.round(lastAnswered - stoppedAt)} ms, REFUSED from ${Math.round(refusedAt - stoppedAt)} ms after the others stopped (max_stale ${MAX_STALE_MS} ms)`,
      );
      // The last contact was at most one heartbeat interval (T/10) before the stop.
      assert.ok(refusedAt - stoppedAt >= MAX_STALE_MS - HEARTBEAT_MS / 10, 'answered for max_stale');
      assert.ok(refusedAt - stoppedAt <= MAX_STALE_MS + TOLERANCE_MS, 'refused soon after max_stale');
      assert.deepEqual(after, Array(5).fill('REFUSED'), 'stays REFUSED without a leader');
    } finally {
      resumeAll();
      run.writeConfig(baseConfig);
      run.signal('SIGHUP');
    }
    await waitFor(
      `${follower.id} to refuse again (serve_on leader)`,
      async () => ((await outcome(run.udp(NAME))) === 'REFUSED' ? true : undefined),
      5000,
    );
    await waitFor('a serving leader again', () => servingLeader(nodes), 10_000);
  });

  it('a SIGSTOPped leader never answers its queued queries after SIGCONT, and rejoins as follower', async (t) => {
    const old = await waitFor('a serving leader', () => servingLeader(nodes), 10_000);
    const others = nodes.filter((n) => n !== old);
    let queued: Promise<string>[] = [];
    try {
      runOf(old).signal('SIGSTOP');
      // Queries that arrive while it is stopped wait in its socket buffer until SIGCONT.
      queued = Array.from({ length: 20 }, () => outcome(queryLate(old, 15_000)));
      const next = await waitFor(
        'a new leader among the other two',
        () => servingLeader(others),
        10_000,
      ).catch(async (e: unknown) => {
        throw new Error(`${String(e)}\n${await describeClusterProcs(others)}`);
      });
      assert.notEqual(next.id, old.id);
      queued.push(...Array.from({ length: 10 }, () => outcome(queryLate(old, 15_000))));
    } finally {
      resumeAll();
    }
    const results = await Promise.all(queued);
    const counts = Object.fromEntries(
      [...new Set(results)].map((r) => [r, results.filter((x) => x === r).length]),
    );
    t.diagnostic(`queued queries after SIGCONT: ${JSON.stringify(counts)}`);
    assert.equal(
      results.filter((r) => r === 'answered').length,
      0,
      `stale answers: ${JSON.stringify(counts)}`,
    );
    await waitFor(
      `${old.id} to follow the new leader`,
      async () => {
        const st = await clusterStatusOf(old);
        return st.state === 'follower' && st.leader_id !== '' && st.leader_id !== old.id ? true : undefined;
      },
      10_000,
    );
    assert.equal(await outcome(runOf(old).udp(NAME)), 'REFUSED', `${old.id} is a follower now`);
    await waitFor('one serving leader over all three', () => servingLeader(nodes), 10_000);
  });

  it('a leader cut off from both followers stops answering within one election timeout', async (t) => {
    const leader = await waitFor('a serving leader', () => servingLeader(nodes), 10_000);
    const followers = nodes.filter((n) => n !== leader);
    const run = runOf(leader);
    const outcomes: { at: number; o: string }[] = [];
    try {
      for (const f of followers) runOf(f).signal('SIGSTOP');
      const stoppedAt = performance.now();
      // Probe until well past check-quorum's step-down (T after the last ack) and one election timeout.
      const probeUntil = stoppedAt + HEARTBEAT_MS + ELECTION_MS;
      for (let i = 0; i < MAX_PROBES && performance.now() < probeUntil; i++) {
        const o = await outcome(queryLate(leader, 2000));
        outcomes.push({ at: performance.now() - stoppedAt, o });
        // Pacing, not synchronisation: ~5 ms resolution without spinning a shared core.
        await new Promise((r) => setTimeout(r, 5));
      }
      const firstRefused = outcomes.find((x) => x.o !== 'answered');
      const lastAnswered = outcomes.filter((x) => x.o === 'answered').at(-1);
      t.diagnostic(
        `leader answered until ${Math.round(lastAnswered?.at ?? 0)} ms, refused from ${Math.round(firstRefused?.at ?? -1)} ms after both followers stopped (${outcomes.length} probes)`,
      );
      assert.ok(firstRefused !== undefined, 'the leader stopped answering');
      // The last confirmed lease read was issued before the stop: the lease ends by 0.75 T after it.
      assert.ok(
        firstRefused.at <= HEARTBEAT_MS + TOLERANCE_MS,
        `first refusal ${Math.round(firstRefused.at)} ms > T + tolerance (${HEARTBEAT_MS + TOLERANCE_MS} ms)`,
      );
      assert.ok(firstRefused.at <= ELECTION_MS, 'within one election timeout');
      const stale = outcomes.filter((x) => x.at > firstRefused.at && x.o === 'answered');
      assert.deepEqual(stale, [], 'no answer after the lease expired');
      assert.ok(
        outcomes.filter((x) => x.o === 'REFUSED').length > 0,
        `refusals are REFUSED: ${JSON.stringify(outcomes.slice(-3))}`,
      );
    } finally {
      resumeAll();
    }
    assert.equal(run.proc.exitCode, null, 'the leader kept running');
    await waitFor('a serving leader after the followers resumed', () => servingLeader(nodes), 15_000);
  });
});
