/**
 * Three (or more) real `opengslb --mode cluster` processes on loopback for the cluster suites: per-node ports,
 * Raft address and data directory; start/kill/restart. With `proxies`, each node advertises a fault proxy in
 * front of its Raft port, so a suite can cut a node off both ways (`isolateClusterProc`) and heal it. What the
 * suites read from the nodes (status, members, the agreed leader, logs) is in cluster-observe.ts.
 */
import { type AgentPolicyYaml, FAST_CHECK, gslbConfig, type RaftYaml, type ServerYaml } from './config.js';
import { type FaultProxy, socketOwner, startFaultProxy } from './fault-proxy.js';
import type { DataDir, Ports, RunningOpengslb, StartOptions } from './opengslb.js';
import { allocatePorts, createDataDir, startOpengslb } from './opengslb.js';
import { freePorts } from './ports.js';

/** One node: fixed Raft address and data directory across restarts; ports fixed unless taken meanwhile. */
export interface ClusterProc {
  id: string;
  /** Its listeners; replaced by fresh ones when a restart finds one taken (startClusterProc). */
  ports: Ports;
  /** Where the node binds its Raft port. */
  raft: string;
  /** `--gossip-address` (createClusterProcs with `gossip`). */
  gossip?: string;
  data: DataDir;
  /** `--bootstrap` or `--join ...`, set by createClusterProcs; a suite may change them before a start. */
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
  /** Give each node its own loopback gossip address (`ClusterProc.gossip`). */
  gossip?: boolean;
}

/** Ports one node needs: four listeners, Raft, and gossip when asked for. */
const portsPerProc = (opts: ClusterProcsOptions): number => (opts.gossip === true ? 6 : 5);

/** A node `id` on `ports` (portsPerProc of them, distinct), no args, not running. */
function procOn(id: string, ports: readonly number[], opts: ClusterProcsOptions): ClusterProc {
  const [dns, api, metrics, grpc, raft, gossip] = ports as [number, number, number, number, number, number];
  const n: ClusterProc = {
    id,
    ports: { dns, api, metrics, grpc },
    raft: `127.0.0.1:${raft}`,
    data: createDataDir(),
    args: [],
    run: undefined,
  };
  if (opts.gossip === true) n.gossip = `127.0.0.1:${gossip}`;
  return n;
}

/** One node `id` with fresh ports, Raft address and data directory, no args, not running. */
export async function createClusterProc(id: string, opts: ClusterProcsOptions = {}): Promise<ClusterProc> {
  return procOn(id, await freePorts(portsPerProc(opts)), opts);
}

/**
 * `count` nodes named node-1.. with fresh ports and data directories (remove with `removeClusterProcs`).
 * node-1 bootstraps; node-k joins through the advertised addresses of node-1..node-(k-1).
 */
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
  // Drawn in one go so no two nodes get the same port: nothing is bound until the nodes start.
  const per = portsPerProc(opts);
  const ports = await freePorts(count * per);
  for (let i = 1; i <= count; i++) {
    const n = procOn(`node-${i}`, ports.slice((i - 1) * per, i * per), opts);
    if (opts.proxies === true) n.proxy = await startFaultProxy({ target: n.raft, identify });
    out.push(n);
  }
  const first = out[0];
  if (first !== undefined) first.args = ['--bootstrap'];
  for (let i = 1; i < out.length; i++)
    (out[i] as ClusterProc).args = ['--join', out.slice(0, i).map(advertised).join(',')];
  return out;
}

/** Options of {@link clusterConfig}. */
export interface ClusterConfigOptions {
  /** The one domain, served from `region`. */
  name: string;
  /** The region's servers, checked with FAST_CHECK. */
  servers: ServerYaml[];
  /** Default `r1`. */
  region?: string;
  raft: RaftYaml;
  overwatch?: AgentPolicyYaml;
}

/**
 * The one configuration every node of a suite shares: one domain over one region, `cluster.mode: cluster` with
 * `raft`. Its listeners are node-1's; startClusterProc gives each node its own by flag.
 */
export function clusterConfig(nodes: readonly ClusterProc[], opts: ClusterConfigOptions): string {
  const first = nodes[0];
  if (first === undefined) throw new Error('clusterConfig: no nodes');
  const region = opts.region ?? 'r1';
  return gslbConfig(first.ports, {
    regions: [{ name: region, servers: opts.servers, health_check: FAST_CHECK }],
    domains: [{ name: opts.name, regions: [region] }],
    cluster: {
      mode: 'cluster',
      raft: opts.raft,
      ...(opts.overwatch === undefined ? {} : { overwatch: opts.overwatch }),
    },
  });
}

/** `n.run`; throws when `n` is not running. */
export function runOf(n: ClusterProc): RunningOpengslb {
  if (n.run === undefined) throw new Error(`${n.id} is not running`);
  return n.run;
}

/** The Raft address peers use for `n`: its proxy's when it has one. */
export function advertised(n: ClusterProc): string {
  return n.proxy?.address ?? n.raft;
}

/** `n.proxy`; throws when `n` has none. */
export function proxyOf(n: ClusterProc): FaultProxy {
  if (n.proxy === undefined) throw new Error(`${n.id} has no fault proxy (createClusterProcs with proxies)`);
  return n.proxy;
}

/** Cuts `n` off from every other node both ways: its own proxy, and the connections it opened to the others. */
export function isolateClusterProc(nodes: readonly ClusterProc[], n: ClusterProc): void {
  proxyOf(n).cut();
  for (const o of nodes) if (o !== n) o.proxy?.cut({ from: [n.id] });
}

/** Ends every cut. */
export function healClusterProcs(nodes: readonly ClusterProc[]): void {
  for (const n of nodes) n.proxy?.heal();
}

/** `--mode cluster` and `n`'s own node name, Raft, gossip and listener addresses by flag, then `n.args`. */
export function clusterProcArgs(n: ClusterProc): string[] {
  return [
    ...['--mode', 'cluster', '--node-name', n.id, '--bind-address', n.raft],
    ...(n.proxy === undefined ? [] : ['--advertise-address', n.proxy.address]),
    ...(n.gossip === undefined ? [] : ['--gossip-address', n.gossip]),
    ...['--dns-listen-address', `127.0.0.1:${n.ports.dns}`, '--api-address', `127.0.0.1:${n.ports.api}`],
    ...['--metrics-address', `127.0.0.1:${n.ports.metrics}`, '--grpc-address', `127.0.0.1:${n.ports.grpc}`],
    ...n.args,
  ];
}

/** Starts with fresh listener ports after EADDRINUSE, at most this many times in all. */
const PORT_TAKEN_ATTEMPTS = 3;

/**
 * Starts `n` with the shared `config` (its listeners come from flags, so one config serves every node) and
 * waits for /api/v1/ready. `extra.args` are appended to {@link clusterProcArgs}; `extra.env` and `waitReady`
 * pass through. When another process took one of `n`'s listener ports meanwhile (nodes and proxies open many
 * connections; a node that was down holds none), retries with fresh ones, updating `n.ports`.
 */
export async function startClusterProc(
  n: ClusterProc,
  config: string,
  extra: Partial<StartOptions> = {},
): Promise<RunningOpengslb> {
  for (let attempt = 1; ; attempt++) {
    try {
      n.run = await startOpengslb({
        config,
        ports: n.ports,
        dataDir: n.data.path,
        ...extra,
        args: [...clusterProcArgs(n), ...(extra.args ?? [])],
      });
      return n.run;
    } catch (e: unknown) {
      if (attempt >= PORT_TAKEN_ATTEMPTS || !String(e).includes('EADDRINUSE')) throw e;
      n.ports = await allocatePorts();
    }
  }
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
