/**
 * The scenario environment (after etcd's rafttest/interaction_env.go): several cores on crashable memory
 * storages, a message queue standing in for the network, partitions, and a recorder logger whose lines land
 * in the scenario output. Test-only: never imported by production code.
 */
import type { Snapshot } from '../../storage.js';
import type { CrashableMemoryStorage } from '../../storage-memory.js';
import type { NodeId, RaftLogger } from '../config.js';
import { describeMessage, type Message } from '../message.js';
import { createRaft } from '../raw-node.js';
import type { RaftCore, Ready } from '../ready.js';
import { describeReady } from './describe.js';

/** Log levels, lowest first. */
export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** A log level. */
export type Level = (typeof LEVELS)[number];

/** Per-node options of add-nodes. */
export interface NodeOptions {
  electionTicks: number;
  heartbeatTicks: number;
  /** RaftConfig.candidateTicks; undefined = electionTicks. */
  candidateTicks?: number | undefined;
  preVote: boolean;
  checkQuorum: boolean;
  maxSizePerMsg: number | undefined;
  maxInflight: number | undefined;
}

/** One node: its storage, core and the state machine (applied normal entries' data). */
export interface EnvNode {
  id: NodeId;
  storage: CrashableMemoryStorage;
  raft: RaftCore;
  opts: NodeOptions;
  /** What the injected Rand returns (modulo n); 0 makes the election timeout exactly electionTicks. */
  rand: { value: number };
  applied: string[];
}

/** The environment shared by the stanzas of one scenario file. */
export interface Env {
  clusterId: string;
  nodes: Map<NodeId, EnvNode>;
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[];
  /** Partition group of each node; nodes in different groups cannot talk. Empty = healed. */
  groups: Map<NodeId, number>;
  out: string[];
  indent: string;
  level: Level;
}

/** A fresh environment. */
export function createEnv(): Env {
  return {
    clusterId: 'c1',
    nodes: new Map(),
    queue: [],
    groups: new Map(),
    out: [],
    indent: '',
    level: 'info',
  };
}

function formatValue(v: unknown): string {
  if (v instanceof Uint8Array) return JSON.stringify(new TextDecoder().decode(v));
  if (typeof v === 'string') return v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return String(v);
}

/** The recorder: `INFO 1 became leader term=2`, fields in insertion order, undefined ones skipped. */
export function recorder(env: Env, id: NodeId): RaftLogger {
  const log =
    (level: Level) =>
    (o: object, m: string): void => {
      if (LEVELS.indexOf(level) < LEVELS.indexOf(env.level)) return;
      const fields = Object.entries(o)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => ` ${k}=${formatValue(v)}`)
        .join('');
      env.out.push(`${env.indent}${level.toUpperCase()} ${id} ${m}${fields}`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** Creates the core of `node` over its storage (at start, or after a restart). */
export function startCore(
  env: Env,
  id: NodeId,
  storage: CrashableMemoryStorage,
  opts: NodeOptions,
  rand: { value: number },
): RaftCore {
  return createRaft({
    id,
    clusterId: env.clusterId,
    electionTicks: opts.electionTicks,
    heartbeatTicks: opts.heartbeatTicks,
    ...(opts.candidateTicks !== undefined ? { candidateTicks: opts.candidateTicks } : {}),
    storage,
    rand: { int: (n: number) => rand.value % n },
    logger: recorder(env, id),
    preVote: opts.preVote,
    checkQuorum: opts.checkQuorum,
    ...(opts.maxSizePerMsg !== undefined ? { maxSizePerMsg: opts.maxSizePerMsg } : {}),
    ...(opts.maxInflight !== undefined ? { maxInflight: opts.maxInflight } : {}),
  });
}

/** Decodes the harness state machine (a JSON list of applied payloads) from snapshot data. */
export function appliedFromSnapshot(s: Snapshot | undefined): string[] {
  if (s === undefined || s.data.byteLength === 0) return [];
  return JSON.parse(new TextDecoder().decode(s.data)) as string[];
}

/** The node, or an Error naming it (malformed scenario). */
export function node(env: Env, id: string | undefined): EnvNode {
  const n = id === undefined ? undefined : env.nodes.get(id);
  if (n === undefined) throw new Error(`no node ${String(id)}`);
  return n;
}

function dropReason(env: Env, m: Message): string | undefined {
  if (!env.nodes.has(m.to)) return 'no such node';
  const a = env.groups.get(m.from);
  const b = env.groups.get(m.to);
  if (env.groups.size > 0 && a !== b) return 'partitioned';
  return undefined;
}

/**
 * Handles one Ready of `id` in contract order (persist, sync, send, apply, advance) and prints it. Messages
 * that cannot be delivered (partition, unknown node) are printed as dropped and not queued.
 */
export async function processReady(env: Env, id: NodeId): Promise<void> {
  const n = node(env, id);
  const rd: Ready = n.raft.ready();
  const sends: string[] = [];
  for (const m of rd.messages) {
    const why = dropReason(env, m);
    sends.push(why === undefined ? '' : ` (dropped: ${why})`);
    if (why === undefined) env.queue.push(m);
  }
  env.out.push(...describeReady(id, rd, sends));
  if (rd.snapshot !== undefined) {
    await n.storage.installSnapshot(rd.snapshot);
    n.applied = appliedFromSnapshot(rd.snapshot);
  }
  n.storage.append(rd.entries);
  if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
  if (rd.mustSync) await n.storage.sync();
  const dec = new TextDecoder();
  for (const e of rd.committed)
    if (e.kind === 'normal' && e.data.byteLength > 0) n.applied.push(dec.decode(e.data));
  n.raft.advance(rd);
}

/** Delivers every queued message addressed to `id` (in order); returns how many. */
export function deliver(env: Env, id: NodeId, drop = false): number {
  const mine = env.queue.filter((m) => m.to === id);
  if (mine.length === 0) return 0;
  env.queue = env.queue.filter((m) => m.to !== id);
  const n = node(env, id);
  env.out.push(`> ${id} receiving${drop ? ' (dropping)' : ''}`);
  env.indent = '  ';
  for (const m of mine) {
    env.out.push(`  ${describeMessage(m)}`);
    if (!drop) n.raft.step(m);
  }
  env.indent = '';
  return mine.length;
}

/** Processes Readies and delivers messages among `ids` (default all) until nothing is left to do. */
export async function stabilize(env: Env, ids?: NodeId[]): Promise<void> {
  const which = (): NodeId[] => (ids ?? [...env.nodes.keys()]).slice().sort(compareIds);
  for (;;) {
    let progressed = false;
    for (const id of which()) {
      if (node(env, id).raft.hasReady()) {
        await processReady(env, id);
        progressed = true;
      }
    }
    for (const id of which()) if (deliver(env, id) > 0) progressed = true;
    if (!progressed) return;
  }
}

/** Numeric-aware id order, so 10 sorts after 9. */
export function compareIds(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
