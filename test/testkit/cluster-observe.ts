/**
 * What the cluster suites read from running nodes (test/testkit/cluster-procs.ts): the REST cluster status and
 * members, the leader a group of nodes agrees on, a description of every node for failure messages, and the
 * JSON log lines a node wrote.
 */
import type { ClusterProc } from './cluster-procs.js';
import { runOf } from './cluster-procs.js';

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
  /** The Raft address peers dial (the advertised one). */
  address: string;
  state: string;
  is_voter: boolean;
  api_address: string;
  dns_address: string;
  gossip_address: string;
  grpc_address: string;
}

/** GET /api/v1/cluster/status`query` on `n`; throws when `n` is not running. */
export async function clusterStatusOf(n: ClusterProc, query = ''): Promise<ClusterStatusJson> {
  return (await runOf(n).api(`/api/v1/cluster/status${query}`)).body as ClusterStatusJson;
}

/** The members `n` knows (GET /api/v1/cluster/members); throws when `n` is not running. */
export async function clusterMembersOf(n: ClusterProc): Promise<ClusterMemberJson[]> {
  return ((await runOf(n).api('/api/v1/cluster/members')).body as { members: ClusterMemberJson[] }).members;
}

/**
 * True once every node in `group` sees `size` members, all voters; undefined until then. A promotion is in a
 * node's configuration only once that node has the entry, so the leader's view alone is not enough: cut or kill
 * the leader right after it promoted the last learner and the others may still count two voters, one of them
 * the lost leader.
 */
export async function allVoters(group: readonly ClusterProc[], size: number): Promise<true | undefined> {
  for (const n of group) {
    const members = await clusterMembersOf(n);
    if (members.length !== size || !members.every((m) => m.is_voter)) return undefined;
  }
  return true;
}

/** Options of {@link agreedLeader}. */
export interface AgreedLeaderOptions {
  /** Also require every node to have applied everything the leader committed (a restarted node caught up). */
  caughtUp?: boolean;
}

/**
 * The one leader all running nodes of `group` agree on (any subgroup: the majority side of a cut, the nodes not
 * paused), each reporting cluster size `size` and seeing `size` voters (see {@link allVoters}); undefined until
 * then. Nodes in `group` must answer: leave a SIGSTOPped node out.
 */
export async function agreedLeader(
  group: readonly ClusterProc[],
  size: number,
  opts: AgreedLeaderOptions = {},
): Promise<ClusterProc | undefined> {
  const live = group.filter((n) => n.run !== undefined);
  const statuses = await Promise.all(live.map((n) => clusterStatusOf(n)));
  const leaders = statuses.filter((s) => s.is_leader);
  const lead = leaders[0];
  if (leaders.length !== 1 || lead === undefined) return undefined;
  if (!statuses.every((s) => s.leader_id === lead.node_id && s.cluster_size === size)) return undefined;
  if (opts.caughtUp === true && !statuses.every((s) => s.last_applied >= lead.commit_index)) return undefined;
  const leader = live.find((n) => n.id === lead.node_id);
  if (leader === undefined || (await allVoters(live, size)) === undefined) return undefined;
  return leader;
}

/**
 * Every node's status (or why it has none), fault proxy counters and last `tailLines` log lines, for a failure
 * message.
 */
export async function describeClusterProcs(nodes: readonly ClusterProc[], tailLines = 40): Promise<string> {
  const parts = await Promise.all(
    nodes.map(async (n) => {
      const st = await clusterStatusOf(n).catch((e: unknown) => String(e));
      const proxy = n.proxy === undefined ? '' : ` proxy ${JSON.stringify(n.proxy.stats())}`;
      const log = (n.run?.output() ?? '').split('\n').slice(-tailLines).join('\n');
      return `--- ${n.id} ${JSON.stringify(st)}${proxy}\n${log}`;
    }),
  );
  return parts.join('\n');
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
