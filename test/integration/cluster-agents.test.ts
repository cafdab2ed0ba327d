/**
 * Agents in cluster mode (issue #5): agents report to the leader only. A real `opengslb-agent` configured with a
 * follower's gRPC address is redirected (Reconnect directive) to the leader, registers there, and its
 * observations take effect cluster-wide (read on a follower with `?consistent=true`). When leadership moves away
 * from the node holding the stream (the leader is paused with SIGSTOP, another is elected, then SIGCONT), the old
 * leader moves the stream off and the agent ends up on the new leader. Addresses 127.0.50.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { agentPolicy, type RunningAgent, startAgent, waitConnected, waitLogged } from '../testkit/agent.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { agreedLeader, describeClusterProcs, jsonLogLines } from '../testkit/cluster-observe.js';
import {
  type ClusterProc,
  clusterConfig,
  createClusterProcs,
  removeClusterProcs,
  startClusterProc,
} from '../testkit/cluster-procs.js';
import type { AgentJson, BackendJson } from '../testkit/observe-agents.js';
import type { RunningOpengslb } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const ADDRESS = '127.0.50.2';
const AGENT_ID = 'agent-c1';

async function consistentBackend(run: RunningOpengslb): Promise<BackendJson | undefined> {
  const res = await run.api('/api/v1/backends?consistent=true');
  if (res.status !== 200) return undefined;
  return (res.body as { backends: BackendJson[] }).backends.find((b) => b.address === ADDRESS);
}

async function agentOn(run: RunningOpengslb): Promise<AgentJson | undefined> {
  const res = await run.api('/api/v1/agents');
  return (res.body as { agents: AgentJson[] }).agents.find((a) => a.id === AGENT_ID);
}

describe('cluster mode: agents report to the leader', () => {
  let backends: TestBackend[] = [];
  let nodes: ClusterProc[] = [];
  let agent: RunningAgent | undefined;
  let config = '';

  before(async () => {
    backends = await startBackends([ADDRESS]);
    nodes = await createClusterProcs(3);
    config = clusterConfig(nodes, {
      name: NAME,
      region: 'r',
      servers: [],
      raft: { heartbeat_timeout: '300ms', election_timeout: '300ms' },
      overwatch: agentPolicy({ [NAME]: TOKEN }),
    });
    for (const n of nodes) await startClusterProc(n, config);
  });

  after(async () => {
    for (const n of nodes) n.run?.signal('SIGCONT');
    await agent?.stop();
    await removeClusterProcs(nodes);
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('redirects an agent from a follower to the leader, where its observations take effect', async () => {
    const leader = await waitFor('one leader over three voters', () => agreedLeader(nodes, 3), 20_000);
    const follower = nodes.find((n) => n !== leader) as ClusterProc;
    const other = nodes.find((n) => n !== leader && n !== follower) as ClusterProc;
    agent = startAgent({
      config: {
        id: AGENT_ID,
        region: 'r',
        overwatch: [`127.0.0.1:${follower.ports.grpc}`],
        token: TOKEN,
        backends: [{ service: NAME, address: ADDRESS, port: backends[0]?.port ?? 0 }],
      },
    });
    const [redirect] = await waitLogged(agent, 'overwatch redirected this agent', 10_000);
    assert.equal(redirect?.['from'], `127.0.0.1:${follower.ports.grpc}`);
    assert.equal(redirect?.['to'], `127.0.0.1:${leader.ports.grpc}`);
    const [welcome] = await waitConnected(agent);
    assert.equal(welcome?.['node'], leader.id);
    assert.equal(welcome?.['overwatch'], `127.0.0.1:${leader.ports.grpc}`);
    const lr = leader.run as RunningOpengslb;
    assert.equal((await agentOn(lr))?.connected, true);
    // Followers hold no agent streams.
    assert.equal((await agentOn(follower.run as RunningOpengslb))?.connected ?? false, false);

    // The agent's claim reaches every node through the log: healthy, then unhealthy once the backend fails.
    await waitFor(
      'the agent backend healthy on the other follower',
      async () =>
        (await consistentBackend(other.run as RunningOpengslb))?.status === 'healthy' ? true : undefined,
      10_000,
    );
    assert.deepEqual(await lr.addresses(NAME), [ADDRESS]);
    backends[0]?.setStatus(500);
    const seen = await waitFor(
      'the agent backend unhealthy on the other follower',
      async () => {
        const b = await consistentBackend(other.run as RunningOpengslb);
        return b !== undefined && b.status !== 'healthy' ? b : undefined;
      },
      10_000,
    );
    assert.equal(seen.agent_id, AGENT_ID);
    backends[0]?.setStatus(200);
    await waitFor(
      'healthy again',
      async () =>
        (await consistentBackend(other.run as RunningOpengslb))?.status === 'healthy' ? true : undefined,
      10_000,
    );
  });

  it('moves the agent to the new leader when leadership moves', async () => {
    const old = await waitFor('one leader', () => agreedLeader(nodes, 3), 5000);
    const a = agent as RunningAgent;
    const welcomes = a.logged('connected to overwatch').length;
    const oldRun = old.run as RunningOpengslb;
    // Paused, the leader misses its heartbeats: the others elect a new leader among themselves.
    oldRun.signal('SIGSTOP');
    const rest = nodes.filter((n) => n !== old);
    const next = await waitFor('a new leader among the other two', () => agreedLeader(rest, 3), 10_000);
    oldRun.signal('SIGCONT');
    // The old leader steps down and moves its agent streams off; the agent lands on the new leader.
    await waitFor(
      'the old leader moved its agent streams',
      () =>
        jsonLogLines(oldRun.output()).some(
          (l) => l.msg === 'moving agent streams off this node (not the leader)',
        )
          ? true
          : undefined,
      10_000,
    ).catch(async (e: unknown) => {
      throw new Error(`${String(e)}\n${await describeClusterProcs([old], 60)}`);
    });
    const landed = await waitLogged(a, 'connected to overwatch', 15_000, welcomes + 1);
    const last = landed[landed.length - 1];
    assert.equal(last?.['node'], next.id, JSON.stringify(landed));
    await waitFor(
      `agent connected on ${next.id}`,
      async () => ((await agentOn(next.run as RunningOpengslb))?.connected === true ? true : undefined),
      5000,
    );
    await waitFor('three voters again', () => agreedLeader(nodes, 3), 10_000);
  });
});
