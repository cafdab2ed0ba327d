/**
 * Three (or more) real `opengslb --mode cluster` processes on loopback for the cluster suites: per-node ports,
 * Raft address and data directory; start/kill/restart; the leader all running nodes agree on; the JSON log
 * lines a node wrote.
 */
import type { DataDir, Ports, RunningOpengslb, StartOptions } from './opengslb.js';
import { allocatePorts, createDataDir, startOpengslb } from './opengslb.js';
import { freePort } from './ports.js';

/** GET /api/v1/cluster/status. */
export interface ClusterStatusJson {
  mode: string;
  node_id: string;
  is_leader: boolean;
  leader_id: string;
  leader_address: string;
  cluster_size: number;
  state: string;
  term: number;
  commit_index: number;
  last_applied: number;
}

/** One entry of GET /api/v1/cluster/members. */
export interface ClusterMemberJson {
  id: string;
  address: string;
  state: string;
  is_voter: boolean;
}

/** One node: fixed ports, Raft address and data directory across restarts. */
export interface ClusterProc {
  id: string;
  ports: Ports;
  raft: string;
  data: DataDir;
  /** `--bootstrap` or `--join ...`, set by the suite. */
  args: string[];
  run: RunningOpengslb | undefined;
}

/** `count` nodes named node-1.. with fresh ports and data directories (remove with `removeClusterProcs`). */
export async function createClusterProcs(count: number): Promise<ClusterProc[]> {
  const out: ClusterProc[] = [];
  for (let i = 1; i <= count; i++) {
    out.push({
      id: `node-${i}`,
      ports: await allocatePorts(),
      raft: `127.0.0.1:${await freePort()}`,
      data: createDataDir(),
      args: [],
      run: undefined,
    });
  }
  // node-1 creates the cluster; every other node joins through the ones before it.
  const first = out[0];
  if (first !== undefined) first.args = ['--bootstrap'];
  for (let i = 1; i < out.length; i++)
    (out[i] as ClusterProc).args = [
      '--join',
      out
        .slice(0, i)
        .map((n) => n.raft)
        .join(','),
    ];
  return out;
}

/** Starts `n` with the shared `config` and its own listeners by flag; waits for /api/v1/ready. */
export async function startClusterProc(
  n: ClusterProc,
  config: string,
  extra: Partial<StartOptions> = {},
): Promise<RunningOpengslb> {
  n.run = await startOpengslb({
    config,
    ports: n.ports,
    dataDir: n.data.path,
    ...extra,
    args: [
      '--mode',
      'cluster',
      '--node-name',
      n.id,
      '--bind-address',
      n.raft,
      '--dns-listen-address',
      `127.0.0.1:${n.ports.dns}`,
      '--api-address',
      `127.0.0.1:${n.ports.api}`,
      '--metrics-address',
      `127.0.0.1:${n.ports.metrics}`,
      '--grpc-address',
      `127.0.0.1:${n.ports.grpc}`,
      ...n.args,
    ],
  });
  return n.run;
}

/** SIGKILL, and wait for the exit. */
export async function killClusterProc(n: ClusterProc): Promise<void> {
  const run = n.run;
  if (run === undefined) return;
  run.signal('SIGKILL');
  await run.exited;
  n.run = undefined;
}

/** Stops every running node and removes every data directory (for `after`). */
export async function removeClusterProcs(nodes: readonly ClusterProc[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.run?.stop()));
  for (const n of nodes) n.data.remove();
}

export async function clusterStatusOf(n: ClusterProc, query = ''): Promise<ClusterStatusJson> {
  if (n.run === undefined) throw new Error(`${n.id} is not running`);
  return (await n.run.api(`/api/v1/cluster/status${query}`)).body as ClusterStatusJson;
}

/** The one leader all running nodes agree on, with `size` members all voters; undefined until then. */
export async function agreedLeader(
  nodes: readonly ClusterProc[],
  size: number,
): Promise<ClusterProc | undefined> {
  const live = nodes.filter((n) => n.run !== undefined);
  const statuses = await Promise.all(live.map((n) => clusterStatusOf(n)));
  const leaders = statuses.filter((s) => s.is_leader);
  if (leaders.length !== 1) return undefined;
  const id = leaders[0]?.node_id;
  if (!statuses.every((s) => s.leader_id === id && s.cluster_size === size)) return undefined;
  const leader = live.find((n) => n.id === id);
  if (leader?.run === undefined) return undefined;
  const members = (await leader.run.api('/api/v1/cluster/members')).body as { members: ClusterMemberJson[] };
  if (members.members.length !== size || !members.members.every((m) => m.is_voter)) return undefined;
  return leader;
}

/** One pino JSON log line: a constant `msg`, fields beside it. */
export interface LogLine {
  level: number | string;
  msg: string;
  [field: string]: unknown;
}

/** The JSON log lines in `output`, in order (other output skipped). */
export function jsonLogLines(output: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v === 'object' && v !== null && 'msg' in v) out.push(v as LogLine);
    } catch {
      // A line still being written is read whole on the next call.
    }
  }
  return out;
}
