/**
 * Linearizability of override writes and consistent reads against a real 3-node cluster under kill -9 and a
 * network partition (issue #5, tests 2). Four clients PUT and DELETE overrides on random live nodes and read
 * them with `GET /api/v1/overrides?consistent=true` (ReadIndex), while the test SIGKILLs the leader and restarts
 * it, cuts the (new) leader off from both peers through the fault proxies in front of every Raft port and heals
 * the cut, then kills the leader once more (on Linux; elsewhere the partition is skipped: it needs /proc).
 * Each backend's override is one register (value = the unique `reason` written). A write that times out, loses its
 * connection or answers 5xx may or may not have happened: it stays open-ended; a 4xx or a refused connection had
 * no effect and is dropped, as is every failed read. The history is checked with test/sim/linearizability.ts.
 * Addresses 127.0.49.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { OverwatchService } from '../../internal/gen/opengslb/v1/admin_pb.js';
import { createClient } from '../../internal/grpc/client.js';
import { GrpcError } from '../../internal/grpc/grpc-error.js';
import { createRecorder, type Recorder, type RecorderStats, renderHistory } from '../sim/history.js';
import { checkLinearizable, registerModel } from '../sim/linearizability.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { agreedLeader, clusterStatusOf } from '../testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  createClusterProcs,
  healClusterProcs,
  isolateClusterProc,
  killClusterProc,
  removeClusterProcs,
  startClusterProc,
} from '../testkit/cluster-procs.js';
import { overridePath } from '../testkit/observe-decisions.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const ADDRESSES = ['127.0.49.1', '127.0.49.2', '127.0.49.3'];
const CLIENTS = 4;
/** Operations per client at most: the whole history stays small enough to check in well under a second. */
const MAX_OPS_PER_CLIENT = 80;
const REQUEST_TIMEOUT_MS = 6000;
/** The workload ends once the kills are done, and in any case by then. */
const RUN_LIMIT_MS = 60_000;
const KILLS = 2;
/** The partition fault identifies connections by owner through /proc. */
const PARTITION = process.platform === 'linux';
/** How long the leader stays cut off: several election timeouts (300 ms) on its own. */
const CUT_HOLD_MS = 1500;
/** Completed operations between one fault and the next. */
const OPS_BETWEEN_FAULTS = 20;

type Outcome = { kind: 'ok'; body: unknown } | { kind: 'fail' } | { kind: 'open' };

/** Sends one request and classifies the outcome for the history (see the module comment). */
async function send(url: string, init: RequestInit = {}): Promise<Outcome> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    const text = await res.text();
    if (res.ok) return { kind: 'ok', body: text === '' ? undefined : (JSON.parse(text) as unknown) };
    return res.status >= 400 && res.status < 500 ? { kind: 'fail' } : { kind: 'open' };
  } catch (e: unknown) {
    // Nobody listening: the request never reached a node. Anything else (reset, timeout) is unknown.
    const code = (e as { cause?: { code?: string } }).cause?.code;
    return code === 'ECONNREFUSED' ? { kind: 'fail' } : { kind: 'open' };
  }
}

describe('cluster linearizability: overrides under kill -9 and a partition', () => {
  let backends: TestBackend[] = [];
  let nodes: ClusterProc[] = [];
  let config = '';

  before(async () => {
    backends = await startBackends(ADDRESSES);
    nodes = await createClusterProcs(3, { proxies: PARTITION });
    config = clusterConfig(nodes, {
      name: NAME,
      servers: backends.map((b) => ({ address: b.address, port: b.port })),
      raft: { heartbeat_timeout: '300ms', election_timeout: '300ms' },
    });
    for (const n of nodes) await startClusterProc(n, config);
    await waitFor('one leader over three voters', () => agreedLeader(nodes, 3), 20_000);
  });

  after(async () => {
    await removeClusterProcs(nodes);
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('every history of writes and consistent reads is linearizable', async () => {
    const started = performance.now();
    const recorder: Recorder<string, string> = createRecorder({ now: () => performance.now() - started });
    const targets = backends.map((b) => `${b.address}:${b.port}`);
    let done = false;
    let seq = 0;
    const rand = (n: number): number => Math.floor(Math.random() * n);
    const liveApi = (): string | undefined => {
      const live = nodes.filter((n) => n.run !== undefined);
      const n = live[rand(live.length)];
      return n === undefined ? undefined : `http://127.0.0.1:${n.ports.api}`;
    };

    async function client(c: string): Promise<void> {
      for (let i = 0; i < MAX_OPS_PER_CLIENT && !done && performance.now() - started < RUN_LIMIT_MS; i++) {
        const base = liveApi();
        if (base === undefined) break;
        const dice = rand(10);
        const k = rand(targets.length);
        const target = targets[k] as string;
        if (dice < 4) {
          const value = `${c}-${seq++}`;
          const h = recorder.recordCall(c, target, 'write', value);
          const r = await send(`${base}${overridePath(NAME, target)}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ action: 'drain', reason: value }),
          });
          if (r.kind === 'ok') h.ok();
          else if (r.kind === 'fail') h.fail();
          else h.timeout();
        } else if (dice < 6) {
          const h = recorder.recordCall(c, target, 'delete');
          const r = await send(`${base}${overridePath(NAME, target)}`, { method: 'DELETE' });
          if (r.kind === 'ok') h.ok();
          else if (r.kind === 'fail')
            h.fail(); // 404: no override on that node, nothing proposed
          else h.timeout();
        } else {
          // One consistent read observes every key: one read operation per key, same window.
          const hs = targets.map((t) => ({ t, h: recorder.recordCall(c, t, 'read') }));
          const r = await send(`${base}/api/v1/overrides?consistent=true`);
          const list =
            r.kind === 'ok'
              ? (r.body as { overrides: Array<{ target: string; reason: string }> })
              : undefined;
          for (const { t, h } of hs) {
            if (list === undefined) h.fail();
            else h.ok(list.overrides.find((o) => o.target === t)?.reason);
          }
        }
        // Think time spreads the operations over the faults; it synchronises nothing.
        await new Promise((res) => setTimeout(res, 20 + rand(80)));
      }
    }

    const okOps = (): number => recorder.stats().ok;
    const faultLog: string[] = [];
    async function afterMoreOps(): Promise<void> {
      const want = okOps() + OPS_BETWEEN_FAULTS;
      await waitFor(`${want} completed operations`, () => (okOps() >= want ? true : undefined), 20_000);
    }
    async function killLeader(): Promise<void> {
      const leader = await waitFor('one leader', () => agreedLeader(nodes, 3), 10_000);
      await killClusterProc(leader);
      await waitFor('a new leader', () => agreedLeader(nodes, 3), 10_000);
      await startClusterProc(leader, config);
      faultLog.push(`killed ${leader.id}`);
    }
    async function cutLeader(): Promise<void> {
      const leader = await waitFor('one leader', () => agreedLeader(nodes, 3), 10_000);
      const majority = nodes.filter((n) => n !== leader);
      isolateClusterProc(nodes, leader);
      const cutAt = performance.now();
      await waitFor('a leader of the majority', () => agreedLeader(majority, 3), 10_000);
      // Hold the cut: the clients keep talking to the isolated node, which must not serve stale reads.
      await new Promise((res) => setTimeout(res, Math.max(0, CUT_HOLD_MS - (performance.now() - cutAt))));
      healClusterProcs(nodes);
      await waitFor('one leader after the heal', () => agreedLeader(nodes, 3), 10_000);
      faultLog.push(`cut ${leader.id} for ${Math.round(performance.now() - cutAt)} ms`);
    }
    async function faults(): Promise<void> {
      try {
        await afterMoreOps();
        await killLeader();
        if (PARTITION) {
          await afterMoreOps();
          await cutLeader();
        }
        for (let k = 1; k < KILLS; k++) {
          await afterMoreOps();
          await killLeader();
        }
        await afterMoreOps();
      } finally {
        done = true;
      }
    }

    await Promise.all([faults(), ...Array.from({ length: CLIENTS }, (_, i) => client(`c${i}`))]);
    const runMs = performance.now() - started;
    const history = recorder.history();
    const stats: RecorderStats = recorder.stats();
    const checkStarted = performance.now();
    const result = checkLinearizable(history, registerModel(), {
      deadline: { now: () => performance.now(), atMs: checkStarted + 30_000 },
    });
    const checkMs = performance.now() - checkStarted;
    const summary = `history ${history.length} ops (ok ${stats.ok}, open ${stats.open}, dropped ${stats.failed}) over ${Math.round(runMs)} ms with faults [${faultLog.join(', ')}]; checked in ${Math.round(checkMs)} ms`;
    process.stdout.write(`# ${summary}\n`);
    if (result.ok === false)
      assert.fail(
        `not linearizable on ${result.key}: ${result.reason}\n${summary}\n${renderHistory(history, { key: result.key, partial: result.partial, stuck: result.stuck })}`,
      );
    assert.equal(result.ok, true, `checker gave no verdict: ${JSON.stringify(result)}`);
    assert.equal(stats.pending, 0);
    const completed = (action: string): number =>
      history.filter((o) => o.action === action && o.returnTime !== undefined).length;
    // Not vacuous: the run wrote and read through the faults.
    assert.ok(completed('write') >= 15, `${completed('write')} completed writes; ${summary}`);
    assert.ok(completed('read') >= 30, `${completed('read')} completed reads; ${summary}`);
  });

  it('consistent reads: 400 on a bad value; caught up on a follower; 503 / UNAVAILABLE without a leader', async () => {
    const leader = await waitFor('one leader', () => agreedLeader(nodes, 3), 10_000);
    const [f1, f2] = nodes.filter((n) => n !== leader) as [ClusterProc, ClusterProc];
    const fr = f1.run;
    assert.ok(fr !== undefined);
    const bad = await fr.api('/api/v1/overrides?consistent=maybe');
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
    // A consistent read on a follower has applied at least what the leader had committed when it was sent.
    const before = (await clusterStatusOf(leader)).commit_index;
    assert.ok((await clusterStatusOf(f1, '?consistent=true')).last_applied >= before);
    const admin = createClient(OverwatchService, `127.0.0.1:${f1.ports.grpc}`, credentials.createInsecure());
    try {
      const st = await admin.getClusterStatus({ consistent: true }, { timeoutMs: 5000 });
      assert.ok(Number(st.lastApplied) >= before);
      assert.equal(st.leaderId, leader.id);
      // Alone, the follower cannot confirm a read point.
      await killClusterProc(leader);
      await killClusterProc(f2);
      const res = await fetch(`http://127.0.0.1:${f1.ports.api}/api/v1/overrides?consistent=true`, {
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(res.status, 503, await res.text());
      assert.equal(res.headers.get('retry-after'), '1');
      assert.equal((await fr.api('/api/v1/overrides')).status, 200, 'a local read still answers');
      await assert.rejects(
        () => admin.getClusterStatus({ consistent: true }, { timeoutMs: 10_000 }),
        (e: unknown) => e instanceof GrpcError && e.code === status.UNAVAILABLE,
      );
    } finally {
      admin.$close();
    }
  });
});
