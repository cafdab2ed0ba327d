/**
 * Leader failover as a DNS client sees it: three real `opengslb --mode cluster` processes on loopback; each run
 * finds the leader, queries every node over UDP every `--poll` ms, SIGKILLs the leader and measures the time
 * from the kill to the first NOERROR answer carrying an A record from another node. The killed node is then
 * restarted from its data directory and the next run waits until it is a caught-up follower.
 *
 *   npm run build && node dist/bench/failover.js [--runs 20] [--timeout 150ms] [--poll 5]
 *
 * `--timeout` sets both cluster.raft.heartbeat_timeout and election_timeout; without it the product defaults
 * apply. BENCH_LOG=info (or debug) raises the nodes' log level, which a failed run prints. Only configuration, signals, DNS and the REST status are used, so the bench does not depend on how the
 * timeouts are implemented. Results are recorded in bench/RESULTS.md with the machine and commit.
 */
import { parseArgs } from 'node:util';
import { queryUdp } from '../internal/dns/client.js';
import { startBackends } from '../test/testkit/backends.js';
import { agreedLeader, describeClusterProcs } from '../test/testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  createClusterProcs,
  removeClusterProcs,
  startClusterProc,
} from '../test/testkit/cluster-procs.js';
import { answerData, type RunningOpengslb, rcodeOf } from '../test/testkit/opengslb.js';
import { waitFor } from '../test/testkit/wait.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    timeout: { type: 'string' },
    poll: { type: 'string', default: '5' },
  },
});
const RUNS = Number(values.runs);
const TIMEOUT = values.timeout;
const POLL_MS = Number(values.poll);
const NAME = 'app.example.com';
const BACKEND = '127.0.49.2';
/** Upper bound on one failover; a run beyond it is reported as a failure, not a sample. */
const FAILOVER_DEADLINE_MS = 30_000;

/** The leader every node agrees on, once all `size` run, see `size` voters and applied what the leader committed. */
async function settledLeader(nodes: readonly ClusterProc[], size: number): Promise<ClusterProc | undefined> {
  if (nodes.filter((n) => n.run !== undefined).length !== size) return undefined;
  return agreedLeader(nodes, size, { caughtUp: true });
}

function percentile(sorted: readonly number[], p: number): number {
  // Nearest rank: the smallest sample with at least p of the samples at or below it.
  return sorted[Math.max(0, Math.ceil(sorted.length * p) - 1)] as number;
}

async function main(): Promise<void> {
  const [backend] = await startBackends([BACKEND]);
  if (backend === undefined) throw new Error('no backend');
  const nodes = await createClusterProcs(3);
  const raft = TIMEOUT === undefined ? {} : { heartbeat_timeout: TIMEOUT, election_timeout: TIMEOUT };
  // The bench prints its own lines; the nodes' debug logs (per Raft message) would only cost CPU here.
  const config = clusterConfig(nodes, {
    name: NAME,
    servers: [{ address: BACKEND, port: backend.port }],
    raft,
  }).replace('level: debug', `level: ${process.env['BENCH_LOG'] ?? 'warn'}`);

  const samples: number[] = [];
  try {
    for (const n of nodes) await startClusterProc(n, config);
    console.log(
      `failover bench: 3 nodes, ${TIMEOUT === undefined ? 'default timeouts' : `heartbeat/election ${TIMEOUT}`}, ` +
        `${RUNS} leader kills, DNS polled every ${POLL_MS} ms`,
    );
    for (let run = 1; run <= RUNS; run++) {
      const leader = await waitFor(
        'a settled leader over three nodes',
        () => settledLeader(nodes, 3),
        30_000,
      );
      const lrun = leader.run as RunningOpengslb;
      await waitFor(
        `${NAME} from ${leader.id}`,
        async () => (answerData(await lrun.udp(NAME), 'A').join() === BACKEND ? true : undefined),
        10_000,
      );
      const others = nodes.filter((n) => n !== leader);
      let done: { node: string; at: number } | undefined;
      const last = new Map<string, string>();
      const killedAt = performance.now();
      lrun.signal('SIGKILL');
      const deadline = killedAt + FAILOVER_DEADLINE_MS;
      // One polling loop per surviving node; the first NOERROR with the A record ends them all.
      await Promise.all(
        others.map(async (n) => {
          const port = n.ports.dns;
          while (done === undefined && performance.now() < deadline) {
            const sentAt = performance.now();
            try {
              const r = await queryUdp('127.0.0.1', port, NAME, 'A', { timeoutMs: 250 });
              last.set(n.id, `${rcodeOf(r)} ${answerData(r, 'A').join()}`);
              if (done === undefined && rcodeOf(r) === 'NOERROR' && answerData(r, 'A').join() === BACKEND) {
                done = { node: n.id, at: performance.now() };
              }
            } catch (e: unknown) {
              last.set(n.id, String(e));
              // A timed-out query is a busy node, not an error of the bench; the next poll retries.
              if (!String(e).includes('timed out') && !String(e).includes('timeout')) throw e;
            }
            const wait = POLL_MS - (performance.now() - sentAt);
            if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // pacing, not synchronisation
          }
        }),
      );
      await lrun.exited;
      leader.run = undefined;
      if (done === undefined) {
        throw new Error(
          `run ${run}: no answer within ${FAILOVER_DEADLINE_MS} ms of the kill; last answers ` +
            `${JSON.stringify([...last])}\n${await describeClusterProcs(others)}`,
        );
      }
      const ms = done.at - killedAt;
      samples.push(ms);
      console.log(`run ${run}: killed ${leader.id}, ${done.node} answered after ${ms.toFixed(1)} ms`);
      await startClusterProc(leader, config);
    }
    await waitFor('the last restart caught up', () => settledLeader(nodes, 3), 30_000);
  } finally {
    await removeClusterProcs(nodes);
    await backend.stop();
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const f = (x: number): string => `${x.toFixed(0)} ms`;
  console.log(
    `samples ${sorted.length}: median ${f(percentile(sorted, 0.5))}, p90 ${f(percentile(sorted, 0.9))}, ` +
      `p99 ${f(percentile(sorted, 0.99))}, max ${f(sorted.at(-1) ?? Number.NaN)}, min ${f(sorted[0] ?? Number.NaN)}`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
