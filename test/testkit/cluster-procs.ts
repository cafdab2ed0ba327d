/**
 * Three (or more) real `opengslb --mode cluster` processes on loopback for the cluster suites: per-node ports,
 * Raft address and data directory; start/kill/restart; the leader all running nodes agree on; the JSON log
 * lines a node wrote. With `proxies`, each node advertises a fault proxy in front of its Raft port, so a suite
 * can cut a node off both ways (`isolateClusterProc`) and heal it.
 */
import { type FaultProxy, socketOwner, startFaultProxy } from './fault-proxy.js';
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
  /** The fault proxy peers dial instead of `raft` (createClusterProcs with `proxies`). */
  proxy?: FaultProxy;
}

/** Options of {@link createClusterProcs}. */
export interface ClusterProcsOptions {
  /**
   * Put a fault proxy in front of each node's Raft port and advertise it. Telling which node opened a
   * connection needs /proc (Linux): check `process.platform` before asking for it.
   */
  proxies?: boolean;
}

/** `count` nodes named node-1.. with fresh ports and data directories (remove with `removeClusterProcs`). */
export async function createClusterProcs(
  count: number,
  opts: ClusterProcsOptions = {},
): Promise<ClusterProc[]> {
  const out: ClusterProc[] = [];
  // Which node opened a connection into a proxy: the running nodes' pids, matched through /proc.
  const identify = async (remotePort: number, localPort: number): Promise<string | undefined> => {
    const live = out.filter((n) => n.run?.proc.pid !== undefined);
    const pid = await socketOwner(
      remotePort,
      localPort,
      live.map((n) => n.run?.proc.pid as number),
    );
    return live.find((n) => n.run?.proc.pid === pid)?.id;
  };
  for (let i = 1; i <= count; i++) {
    const raft = `127.0.0.1:${await freePort()}`;
    const n: ClusterProc = {
      id: `node-${i}`,
      ports: await allocatePorts(),
      raft,
      data: createDataDir(),
      args: [],
      run: undefined,
    };
    if (opts.proxies === true) n.proxy = await startFaultProxy({ target: raft, identify });
    out.push(n);
  }
  // node-1 creates the cluster; every other node joins through the ones before it.
  const first = out[0];
  if (first !== undefined) first.args = ['--bootstrap'];
  for (let i = 1; i < out.length; i++)
    (out[i] as ClusterProc).args = ['--join', out.slice(0, i).map(advertised).join(',')];
  return out;
}

/** The Raft address peers use for `n`: its proxy's when it has one. */
export function advertised(n: ClusterProc): string {
  return n.proxy?.address ?? n.raft;
}

/** Cuts `n` off from every other node both ways: its own proxy, and the connections it opened to the others. */
export function isolateClusterProc(nodes: readonly ClusterProc[], n: ClusterProc): void {
  if (n.proxy === undefined) throw new Error(`${n.id} has no fault proxy (createClusterProcs with proxies)`);
  n.proxy.cut();
  for (const o of nodes) if (o !== n) o.proxy?.cut({ from: [n.id] });
}

/** Ends every cut. */
export function healClusterProcs(nodes: readonly ClusterProc[]): void {
  for (const n of nodes) n.proxy?.heal();
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
      ...(n.proxy === undefined ? [] : ['--advertise-address', n.proxy.address]),
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
  await Promise.all(nodes.map((n) => n.proxy?.close()));
  for (const n of nodes) n.data.remove();
}

export async function clusterStatusOf(n: ClusterProc, query = ''): Promise<ClusterStatusJson> {
  if (n.run === undefined) throw new Error(`${n.id} is not running`);
  return (await n.run.api(`/api/v1/cluster/status${query}`)).body as ClusterStatusJson;
}

/** The one leader all running nodes agree on, each seeing `size` members all voters; undefined until then. */
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
  // Every running node must have applied the promotions, not only the leader: a follower that still counts
  // fewer voters cannot help elect a successor if the leader is killed or cut next.
  for (const n of live) {
    const body = (await n.run?.api('/api/v1/cluster/members'))?.body as
      | { members: ClusterMemberJson[] }
      | undefined;
    if (body?.members.length !== size || !body.members.every((m) => m.is_voter)) return undefined;
  }
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
