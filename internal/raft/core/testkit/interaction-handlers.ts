/**
 * Scenario commands (after etcd's rafttest/interaction_env_handler*.go). Malformed input throws (a test
 * bug); refusals of the core (ProposalDroppedError) are printed into the output as `error: ...`.
 * Test-only: never imported by production code.
 */
import { argVal, argVals, type DataCase, positional } from '../../../testkit/datadriven.js';
import { createMemoryStorage } from '../../storage-memory.js';
import type { ConfChangeType } from '../conf-change.js';
import { encodeConfState } from '../conf-change.js';
import { ProposalDroppedError } from '../errors.js';
import type { Message, MessageType } from '../message.js';
import { describeStatus, describeStorageLog } from './describe.js';
import {
  appliedFromSnapshot,
  compareIds,
  deliver,
  type Env,
  LEVELS,
  type Level,
  type NodeOptions,
  node,
  processReady,
  stabilize,
  startCore,
} from './interaction-env.js';

const enc = new TextEncoder();

function int(c: DataCase, s: string | undefined, what: string): number {
  const n = Number(s);
  if (s === undefined || !Number.isSafeInteger(n))
    throw new Error(`${c.pos}: ${what} ${String(s)} is not an integer`);
  return n;
}

function bool(c: DataCase, key: string, def: boolean): boolean {
  const v = argVal(c, key);
  if (v === undefined) return def;
  if (v !== 'true' && v !== 'false') throw new Error(`${c.pos}: ${key}=${v} is not true or false`);
  return v === 'true';
}

async function addNodes(env: Env, c: DataCase): Promise<void> {
  const count = int(c, positional(c)[0], 'node count');
  const voters = argVals(c, 'voters');
  const learners = argVals(c, 'learners') ?? [];
  const index = int(c, argVal(c, 'index', '1'), 'index');
  const maxSize = argVal(c, 'max-size');
  const maxInflight = argVal(c, 'max-inflight');
  const candidate = argVal(c, 'candidate');
  const opts: NodeOptions = {
    electionTicks: int(c, argVal(c, 'election', '10'), 'election'),
    heartbeatTicks: int(c, argVal(c, 'heartbeat', '1'), 'heartbeat'),
    candidateTicks: candidate === undefined ? undefined : int(c, candidate, 'candidate'),
    preVote: bool(c, 'prevote', true),
    checkQuorum: bool(c, 'checkquorum', true),
    maxSizePerMsg: maxSize === undefined ? undefined : int(c, maxSize, 'max-size'),
    maxInflight: maxInflight === undefined ? undefined : int(c, maxInflight, 'max-inflight'),
  };
  const first = Math.max(0, ...[...env.nodes.keys()].map(Number)) + 1;
  for (let i = 0; i < count; i++) {
    const id = String(first + i);
    const storage = createMemoryStorage({ crashable: true });
    if (voters !== undefined) {
      // A cluster formed out of band: every node starts from the same snapshot holding the configuration.
      const conf = encodeConfState({ voters, learners });
      await storage.installSnapshot({ meta: { index, term: 1, conf }, data: enc.encode('[]') });
    }
    const rand = { value: 0 };
    const raft = startCore(env, id, storage, opts, rand);
    env.nodes.set(id, { id, storage, raft, opts, rand, applied: appliedFromSnapshot(storage.snapshot()) });
  }
}

function ids(env: Env, c: DataCase): string[] {
  const p = positional(c);
  return p.length > 0 ? p : [...env.nodes.keys()].sort(compareIds);
}

function tick(env: Env, c: DataCase, per: (o: NodeOptions) => number): void {
  const n = node(env, positional(c)[0]);
  const times = int(c, argVal(c, 'times', '1'), 'times');
  for (let i = 0; i < times * per(n.opts); i++) n.raft.tick();
}

function partition(env: Env, c: DataCase): void {
  env.groups.clear();
  let group = 0;
  for (const w of positional(c)) {
    if (w === '|') group++;
    else env.groups.set(node(env, w).id, group);
  }
}

function restart(env: Env, id: string): void {
  const n = node(env, id);
  // Lose whatever was not synced, as a crash would; the state machine restarts from the snapshot.
  n.storage.crash();
  env.queue = env.queue.filter((m) => m.to !== id && m.from !== id);
  n.applied = appliedFromSnapshot(n.storage.snapshot());
  n.raft = startCore(env, id, n.storage, n.opts, n.rand);
}

/** `compact <id> [index]`: snapshots the state machine at its applied index (the only state it has). */
async function compact(env: Env, c: DataCase): Promise<void> {
  const [id, at] = positional(c);
  const n = node(env, id);
  const applied = n.raft.status().applied;
  const index = at === undefined ? applied : int(c, at, 'index');
  if (index !== applied) throw new Error(`${c.pos}: compact ${index}: node ${id} has applied ${applied}`);
  const snap = n.raft.createSnapshot(index, enc.encode(JSON.stringify(n.applied)));
  await n.storage.saveSnapshot(snap, 0);
  env.out.push(...describeStorageLog(n.storage));
}

/**
 * Steps a hand-made message into node 2: `inject 2 from=1 type=vote term=3 index=5 logterm=3 [commit=0]
 * [cluster=x] [to=3] [transfer=true]` (`to` defaults to the node stepping it).
 */
function inject(env: Env, c: DataCase): void {
  const to = node(env, positional(c)[0]).id;
  const opt = (key: string, field: 'commit' | 'index' | 'logTerm'): Partial<Message> => {
    const v = argVal(c, key);
    return v === undefined ? {} : { [field]: int(c, v, key) };
  };
  const m: Message = {
    type: argVal(c, 'type', 'heartbeat') as MessageType,
    from: argVal(c, 'from', '0') as string,
    to: argVal(c, 'to', to) as string,
    clusterId: argVal(c, 'cluster', env.clusterId) as string,
    term: int(c, argVal(c, 'term', '0'), 'term'),
    ...opt('commit', 'commit'),
    ...opt('index', 'index'),
    ...opt('logterm', 'logTerm'),
    ...(argVal(c, 'transfer') === 'true' ? { transfer: true } : {}),
  };
  node(env, to).raft.step(m);
}

async function dispatch(env: Env, c: DataCase): Promise<void> {
  const p = positional(c);
  switch (c.cmd) {
    case 'add-nodes':
      return addNodes(env, c);
    case 'bootstrap':
      return node(env, p[0]).raft.bootstrap();
    case 'campaign':
      return node(env, p[0]).raft.campaign();
    case 'tick-election':
      return tick(env, c, (o) => o.electionTicks);
    case 'tick-heartbeat':
      return tick(env, c, (o) => o.heartbeatTicks);
    case 'tick':
      return tick(env, c, () => 1);
    case 'stabilize':
      return stabilize(env, p.length > 0 ? p : undefined);
    case 'process-ready':
      for (const id of ids(env, c)) if (node(env, id).raft.hasReady()) await processReady(env, id);
      return;
    case 'deliver-msgs': {
      const drop = new Set(argVals(c, 'drop') ?? []);
      for (const id of ids(env, c)) deliver(env, id, drop.has(id));
      for (const id of drop) deliver(env, id, true);
      return;
    }
    case 'partition':
      return partition(env, c);
    case 'heal':
      env.groups.clear();
      return;
    case 'propose':
      return node(env, p[0]).raft.propose(enc.encode(p[1] ?? ''));
    case 'conf-change': {
      const [id, type, target] = p;
      if (target === undefined) throw new Error(`${c.pos}: conf-change wants <id> <type> <node>`);
      return node(env, id).raft.proposeConfChange({ type: type as ConfChangeType, node: target });
    }
    case 'transfer':
      return node(env, p[0]).raft.transferLeadership(p[1] ?? '');
    case 'read-index':
      return node(env, p[0]).raft.readIndex(enc.encode(p[1] ?? ''));
    case 'status':
      env.out.push(...describeStatus(node(env, p[0]).raft.status()));
      return;
    case 'raft-log':
      env.out.push(...describeStorageLog(node(env, p[0]).storage));
      return;
    case 'applied':
      env.out.push(`${p[0]}: ${JSON.stringify(node(env, p[0]).applied)}`);
      return;
    case 'compact':
      return compact(env, c);
    case 'restart':
      return restart(env, node(env, p[0]).id);
    case 'set-rand':
      node(env, p[0]).rand.value = int(c, p[1], 'rand value');
      return;
    case 'log-level': {
      const level = p[0] as Level;
      if (!LEVELS.includes(level)) throw new Error(`${c.pos}: unknown log level ${String(p[0])}`);
      env.level = level;
      return;
    }
    case 'report-unreachable':
      return node(env, p[0]).raft.reportUnreachable(p[1] ?? '');
    case 'report-snapshot':
      return node(env, p[0]).raft.reportSnapshot(p[1] ?? '', p[2] === 'ok');
    case 'inject':
      return inject(env, c);
    default:
      throw new Error(`${c.pos}: unknown command ${c.cmd}`);
  }
}

/** Runs one stanza against `env` and returns its output. */
export async function handleCommand(env: Env, c: DataCase): Promise<string> {
  env.out = [];
  try {
    await dispatch(env, c);
  } catch (e: unknown) {
    if (!(e instanceof ProposalDroppedError)) throw e;
    env.out.push(`error: ${e.message}`);
  }
  return env.out.join('\n');
}
