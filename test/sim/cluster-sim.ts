/**
 * A deterministic discrete-event simulator of a Raft cluster (issue #5): N nodes running the real core over
 * crashable memory storage, driven as the runtime shell drives it (sim-node.ts), a network that delays, drops,
 * duplicates, reorders and partitions messages (sim-network.ts), clients proposing unique payloads and asking
 * random nodes for ReadIndex read points (each must cover every write acknowledged before it was asked), and faults
 * drawn from a profile (sim-profiles.ts). Everything, election jitter included, comes from one seeded PRNG, so
 * a seed replays exactly. The invariants (invariants.ts) are checked after every event; at the end the network
 * heals, crashed nodes restart, and the cluster must elect a leader, commit a final proposal on every member
 * and hold every acknowledged proposal. A failure throws with the seed, the step, a reproduction command and
 * the last events.
 */
import type { ConfChange } from '../../internal/raft/core/conf-change.js';
import { decodeConfChange, encodeConfState } from '../../internal/raft/core/conf-change.js';
import { ProposalDroppedError } from '../../internal/raft/core/errors.js';
import { describeMessage, type Message } from '../../internal/raft/core/message.js';
import { createMemoryStorage } from '../../internal/raft/storage-memory.js';
import { seededRand } from '../../internal/testkit/seeded-rand.js';
import { createEventQueue } from './event-queue.js';
import { createInvariantChecker, type InvariantStats, payloadOf, violation } from './invariants.js';
import { createSimClients } from './sim-clients.js';
import { createSimNetwork } from './sim-network.js';
import {
  completeSync,
  crashNode,
  observeNode,
  pump,
  restartNode,
  type SimNode,
  type SimNodeHost,
  startNode,
} from './sim-node.js';
import type { SimProfile } from './sim-profiles.js';

/** Options of {@link runSimulation}. */
export interface SimOptions {
  seed: number;
  /** Initial voters (3, 5, 7); up to three more nodes may join through membership changes. */
  nodes: number;
  profile: SimProfile;
  /** Virtual time with faults and client load (ms). Default 3000 (300 ticks). */
  faultMs?: number;
  /**
   * Virtual time the healed cluster gets to converge (ms). Default 20 000. Without pre-vote, split votes can
   * repeat for a long time: in chaos seed 6608 (3 nodes) a lagging voter that does not know a newer member
   * keeps campaigning in the same terms as it, and a leader emerged only 9.7 s after healing. A run that
   * converges ends at once, so the budget costs nothing then.
   */
  settleMs?: number;
  /** Bound on events per run. Default 400,000. */
  maxEvents?: number;
  /** Bound on real time per run (ms). Default 20,000. */
  realTimeMs?: number;
  /** Events a failure prints, the latest ones. Default 50. */
  traceEvents?: number;
}

/** What a passing run did. */
export interface SimReport extends InvariantStats {
  events: number;
  virtualMs: number;
  crashes: number;
  lostWrites: number;
  partitions: number;
  confChanges: number;
  /** ReadIndex requests answered (each checked against the writes acknowledged before it was asked). */
  reads: number;
}

/** The command that replays one seed of the simulator test. */
export function reproduceCommand(seed: number, profile: string, nodes: number): string {
  return `SIM_SEED=${seed} SIM_PROFILE=${profile} SIM_NODES=${nodes} node --test dist/test/sim/cluster-sim*.test.js`;
}

type SimEvent =
  | { kind: 'tick'; node: SimNode }
  | { kind: 'deliver'; msg: Message }
  | { kind: 'sync'; node: SimNode; inc: number }
  | { kind: 'restart'; node: SimNode }
  | { kind: 'heal'; gen: number }
  | { kind: 'propose' }
  | { kind: 'read' }
  | { kind: 'fault' }
  | { kind: 'end' }
  | { kind: 'probe' };

interface TraceLine {
  step: number;
  at: number;
  ev: SimEvent;
  note: string;
}

const TICK_MS = 10;
const enc = new TextEncoder();

function describeEvent(ev: SimEvent): string {
  switch (ev.kind) {
    case 'tick':
    case 'restart':
      return `${ev.kind} ${ev.node.id}`;
    case 'deliver':
      return `deliver ${describeMessage(ev.msg)}`;
    case 'sync':
      return `sync-done ${ev.node.id}`;
    default:
      return ev.kind;
  }
}

/** Runs one seed; resolves with counters, or rejects with an Error describing the violation and its replay. */
export async function runSimulation(o: SimOptions): Promise<SimReport> {
  const { seed, profile } = o;
  const faultMs = o.faultMs ?? 3000;
  const settleMs = o.settleMs ?? 20_000;
  const maxEvents = o.maxEvents ?? 400_000;
  const realTimeMs = o.realTimeMs ?? 20_000;
  const traceEvents = o.traceEvents ?? 50;
  const rand = seededRand(seed);
  const inv = createInvariantChecker();
  const net = createSimNetwork(rand, profile.link);
  const queue = createEventQueue<SimEvent>();
  const nodes = new Map<string, SimNode>();
  const voters = Array.from({ length: o.nodes }, (_, i) => String(i + 1));
  const spares = [1, 2, 3].map((i) => String(o.nodes + i));
  const retired = new Set<string>();
  const clients = createSimClients(inv);
  const report = { crashes: 0, lostWrites: 0, partitions: 0, confChanges: 0 };
  let now = 0;
  let ops: Promise<void>[] = [];
  let gen = 0;
  let proposals = 0;
  let readCount = 0;
  let hint: string | undefined;
  let final: { payload: string; index: number | undefined } | undefined;
  let done = false;
  const trace: TraceLine[] = [];
  let step = 0;
  let cur: TraceLine = { step: 0, at: 0, ev: { kind: 'end' }, note: '' };
  const say = (s: string): void => {
    cur.note = cur.note === '' ? s : `${cur.note}; ${s}`;
  };

  const between = (r: readonly [number, number]): number => r[0] + rand.int(Math.max(1, r[1] - r[0]));
  const alive = (n: SimNode | undefined): n is SimNode => n?.up === true && !n.removed;
  const live = (): SimNode[] => [...nodes.values()].filter(alive);

  const host: SimNodeHost = {
    rand,
    inv,
    preVote: rand.int(4) !== 0,
    checkQuorum: rand.int(4) !== 0,
    compactEvery: 5 + rand.int(40),
    send(m: Message): void {
      const delays = net.route(m.from, m.to);
      if (delays.length === 0 && m.type === 'snapshot') nodes.get(m.from)?.raft.reportSnapshot(m.to, false);
      for (const d of delays) queue.push(now + d, { kind: 'deliver', msg: m });
    },
    scheduleSync(n: SimNode, inc: number): void {
      queue.push(now + between(profile.syncMs), { kind: 'sync', node: n, inc });
    },
    onApplied(n: SimNode, e): void {
      if (e.kind === 'conf') {
        const cc = decodeConfChange(e.data);
        if (cc.ok && cc.value.type === 'remove') {
          const gone = nodes.get(cc.value.node);
          if (gone !== undefined) gone.removed = true;
        }
        return;
      }
      const index = clients.applied(n, e);
      if (index !== undefined && final?.payload === payloadOf(e)) final.index = index;
    },
    onReadState(n: SimNode, rs): void {
      clients.readState(n, rs);
    },
    track(p: Promise<void>): void {
      ops.push(p);
    },
  };

  function addNode(id: string, withConf: boolean): SimNode {
    const storage = createMemoryStorage({ crashable: true });
    if (withConf) {
      const conf = encodeConfState({ voters, learners: [] });
      host.track(storage.installSnapshot({ meta: { index: 1, term: 1, conf }, data: enc.encode('[]') }));
    }
    const n = startNode(host, id, storage);
    nodes.set(id, n);
    queue.push(now + 1 + rand.int(TICK_MS), { kind: 'tick', node: n });
    return n;
  }

  function leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const n of live()) {
      const st = n.raft.status();
      if (st.role === 'leader' && st.term > bestTerm) [best, bestTerm] = [n, st.term];
    }
    return best;
  }

  /** Calls a request on the core; refusals are expected outcomes and come back as the error. */
  function attempt(fn: () => void): ProposalDroppedError | undefined {
    try {
      fn();
      return undefined;
    } catch (e: unknown) {
      if (e instanceof ProposalDroppedError) return e;
      throw e;
    }
  }

  function propose(payload: string, target: SimNode): boolean {
    const err = attempt(() => target.raft.propose(enc.encode(payload)));
    if (err !== undefined) {
      hint = err.leaderHint === '' ? undefined : err.leaderHint;
      return false;
    }
    clients.proposed(payload, target);
    hint = target.id;
    observeNode(host, target);
    pump(host, target);
    return true;
  }

  function changeMembership(): void {
    const L = leader();
    if (L === undefined) return;
    const conf = L.raft.status().conf;
    const pick = (xs: readonly string[]): string => xs[rand.int(xs.length)] as string;
    let cc: ConfChange | undefined;
    // Ids are never reused: a removal proposed once (even if not applied yet, or lost later) retires the id.
    const spare = spares.find(
      (id) => !retired.has(id) && !conf.voters.includes(id) && !conf.learners.includes(id),
    );
    if (conf.learners.length > 0)
      cc = { type: rand.int(4) === 0 ? 'remove' : 'promote', node: pick(conf.learners) };
    else if (conf.voters.length > o.nodes || (spare === undefined && conf.voters.length > 3))
      cc = { type: 'remove', node: pick(conf.voters) };
    else if (spare !== undefined) cc = { type: 'add-learner', node: spare };
    if (cc === undefined) return;
    // The joining process must exist before the leader starts replicating to it.
    if (cc.type === 'add-learner' && !nodes.has(cc.node)) addNode(cc.node, false);
    const change = cc;
    if (attempt(() => L.raft.proposeConfChange(change)) === undefined) {
      report.confChanges++;
      if (change.type === 'remove') retired.add(change.node);
      say(`propose ${change.type} ${change.node} at leader ${L.id}`);
      pump(host, L);
    }
  }

  function fault(): void {
    const w = profile.faults;
    const kinds = (['partition', 'crash', 'membership', 'transfer'] as const).flatMap((k) =>
      Array<typeof k>(w[k] ?? 0).fill(k),
    );
    const kind = kinds[rand.int(kinds.length)];
    if (kind === 'partition') {
      const shape = profile.partitions[rand.int(profile.partitions.length)] ?? 'full';
      say(
        net.partition(
          shape,
          live().map((n) => n.id),
        ),
      );
      report.partitions++;
      queue.push(now + between(profile.partitionMs), { kind: 'heal', gen: ++gen });
    } else if (kind === 'crash') {
      const xs = live();
      const n = xs[rand.int(xs.length)];
      if (n === undefined) return;
      if (n.pending !== undefined) report.lostWrites++;
      say(`crash ${n.id}${n.pending !== undefined ? ' (unsynced Ready lost)' : ''}`);
      crashNode(n);
      report.crashes++;
      queue.push(now + between(profile.downMs), { kind: 'restart', node: n });
    } else if (kind === 'membership') changeMembership();
    else if (kind === 'transfer') {
      const L = leader();
      if (L === undefined) return;
      const vs = L.raft.status().conf.voters;
      const to = vs[rand.int(vs.length)] as string;
      if (attempt(() => L.raft.transferLeadership(to)) === undefined) say(`transfer ${L.id} -> ${to}`);
      pump(host, L);
    }
  }

  function probe(): void {
    const L = leader();
    if (L === undefined) return;
    const stale = final === undefined || (final.index === undefined && !clients.awaiting(final.payload, L));
    if (stale) {
      const payload = `final${proposals++}`;
      if (propose(payload, L)) final = { payload, index: undefined };
      return;
    }
    if (final?.index === undefined) return;
    const st = L.raft.status();
    // A leader fresh from an election may not have committed its predecessors' entries yet (its commit can
    // lag what an earlier leader acknowledged): wait until its commit covers every acknowledgement.
    if (st.commit < clients.maxAcknowledged()) return;
    const members = [...st.conf.voters, ...st.conf.learners].map((id) => nodes.get(id));
    if (!members.every((m) => alive(m) && m.pending === undefined && m.lastApplied >= st.commit)) return;
    inv.checkAcknowledged(new Map(members.filter(alive).map((m) => [m.id, m.sm])));
    done = true;
  }

  function handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'tick': {
        const n = ev.node;
        if (n.removed) return;
        queue.push(now + TICK_MS, ev);
        if (!n.up) return;
        n.raft.tick();
        observeNode(host, n);
        pump(host, n);
        return;
      }
      case 'deliver': {
        const m = ev.msg;
        const n = nodes.get(m.to);
        const ok = alive(n);
        if (ok) {
          n.raft.step(m);
          observeNode(host, n);
          pump(host, n);
        } else say('dropped: recipient down');
        // As the shell does: the leader learns how every snapshot stream ended.
        if (m.type === 'snapshot') {
          const from = nodes.get(m.from);
          if (alive(from)) {
            from.raft.reportSnapshot(m.to, ok);
            pump(host, from);
          }
        }
        return;
      }
      case 'sync':
        completeSync(host, ev.node, ev.inc);
        observeNode(host, ev.node);
        return;
      case 'restart':
        if (ev.node.up || ev.node.removed) return;
        restartNode(host, ev.node);
        observeNode(host, ev.node);
        pump(host, ev.node);
        return;
      case 'heal':
        if (ev.gen === gen) net.heal();
        return;
      case 'propose': {
        if (now >= faultMs) return;
        queue.push(now + between(profile.proposeEveryMs), ev);
        const h = hint === undefined ? undefined : nodes.get(hint);
        const xs = live();
        const target = alive(h) ? h : xs[rand.int(xs.length)];
        if (target !== undefined) propose(`c${proposals++}`, target);
        return;
      }
      case 'read': {
        if (now >= faultMs) return;
        queue.push(now + between(profile.proposeEveryMs), ev);
        const xs = live();
        const target = xs[rand.int(xs.length)];
        if (target === undefined) return;
        const ctx = `r${readCount++}`;
        if (attempt(() => target.raft.readIndex(enc.encode(ctx))) !== undefined) return;
        clients.reading(ctx, target);
        say(`${ctx} at ${target.id}, acknowledged up to ${clients.maxAcknowledged()}`);
        pump(host, target);
        return;
      }
      case 'fault':
        if (now >= faultMs) return;
        queue.push(now + Math.floor(profile.faultEveryMs * (0.5 + rand.next())), ev);
        fault();
        return;
      case 'end':
        gen++;
        net.heal();
        net.setModel({ ...profile.link, lossRate: 0, dupRate: 0 });
        for (const n of nodes.values())
          if (!n.up && !n.removed) queue.push(now, { kind: 'restart', node: n });
        queue.push(now + TICK_MS, { kind: 'probe' });
        return;
      case 'probe':
        if (now > faultMs + settleMs) {
          const sts = [...nodes.values()].map((n) =>
            n.up && !n.removed
              ? JSON.stringify(n.raft.status())
              : `{"id":"${n.id}",${n.removed ? '"removed"' : '"down"'}}`,
          );
          throw violation('liveness', `no convergence ${settleMs}ms after healing:\n${sts.join('\n')}`);
        }
        queue.push(now + 2 * TICK_MS, ev);
        probe();
        return;
    }
  }

  const started = performance.now();
  try {
    for (const id of voters) addNode(id, true);
    queue.push(0, { kind: 'propose' });
    queue.push(between(profile.proposeEveryMs), { kind: 'read' });
    if (Object.keys(profile.faults).length > 0) queue.push(profile.faultEveryMs, { kind: 'fault' });
    queue.push(faultMs, { kind: 'end' });
    while (!done) {
      const next = queue.pop();
      if (next === undefined) throw violation('liveness', 'no events left');
      now = next.at;
      cur = { step, at: now, ev: next.ev, note: '' };
      trace[step % traceEvents] = cur;
      handle(next.ev);
      if (ops.length > 0) {
        const ps = ops;
        ops = [];
        await Promise.all(ps);
      }
      step++;
      if (step >= maxEvents) throw new Error(`event budget: ${step} events reached the limit ${maxEvents}`);
      if ((step & 4095) === 0 && performance.now() - started > realTimeMs)
        throw new Error(`real-time budget: ${step} events took over ${realTimeMs}ms`);
    }
  } catch (e: unknown) {
    const k = (step + 1) % traceEvents;
    const lines = trace
      .slice(k)
      .concat(trace.slice(0, k))
      .map((l) => `  #${l.step} t=${l.at} ${describeEvent(l.ev)}${l.note === '' ? '' : ` -- ${l.note}`}`);
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(
      `${msg}\n  seed ${seed}, profile ${profile.name}, ${o.nodes} nodes, step ${step}, t=${now}ms ` +
        `(preVote ${host.preVote}, checkQuorum ${host.checkQuorum}, compactEvery ${host.compactEvery})\n` +
        `  reproduce: ${reproduceCommand(seed, profile.name, o.nodes)}\n  last events:\n${lines.join('\n')}`,
      { cause: e },
    );
  }
  return { ...inv.stats(), ...report, reads: clients.readsAnswered(), events: step, virtualMs: now };
}
