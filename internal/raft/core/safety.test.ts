/**
 * Randomized safety check (seeded; a failure prints the seed and step). Five voters on crashable memory
 * storages exchange messages through a network that reorders, drops, duplicates and partitions; nodes crash
 * and restart, compact their logs, transfer leadership and change membership (three more nodes may join as
 * learners, be promoted and be removed). After every step: at most one leader per term (§5.2 Election Safety)
 * and every applied entry equals what any other node applied at that index (State Machine Safety), and a
 * ReadState's index covers everything committed anywhere when the read was issued (linearizable reads). At the
 * end the network heals and the cluster must elect a leader and converge (liveness under a good network).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type SeededRand, seededRand } from '../../testkit/seeded-rand.js';
import type { Entry } from '../storage.js';
import { type CrashableMemoryStorage, createMemoryStorage } from '../storage-memory.js';
import { type ConfChange, encodeConfState } from './conf-change.js';
import type { Message } from './message.js';
import { createRaft } from './raw-node.js';
import type { RaftCore } from './ready.js';

interface SimNode {
  id: string;
  storage: CrashableMemoryStorage;
  raft: RaftCore;
  /** index -> "term:data" of every applied normal entry, plus the snapshot's. */
  applied: Map<number, string>;
}

const VOTERS = ['1', '2', '3', '4', '5'];
/** Nodes 6-8 start empty and may be added as learners, promoted and removed; ids are never reused. */
const IDS = [...VOTERS, '6', '7', '8'];
const enc = new TextEncoder();
const dec = new TextDecoder();

function start(id: string, storage: CrashableMemoryStorage, rand: SeededRand): SimNode {
  const snap = storage.snapshot();
  const applied = new Map<number, string>(
    snap === undefined ? [] : (JSON.parse(dec.decode(snap.data)) as [number, string][]),
  );
  const raft = createRaft({
    id,
    clusterId: 'sim',
    electionTicks: 10,
    heartbeatTicks: 2,
    storage,
    rand,
    maxInflight: 4,
  });
  return { id, storage, raft, applied };
}

function run(seed: number, steps: number): void {
  const rand = seededRand(seed);
  const nodes = new Map<string, SimNode>();
  for (const id of IDS) {
    const storage = createMemoryStorage({ crashable: true });
    const conf = encodeConfState({ voters: VOTERS, learners: [] });
    // installSnapshot on a memory storage completes synchronously; the promise carries no error here.
    if (VOTERS.includes(id))
      void storage.installSnapshot({ meta: { index: 1, term: 1, conf }, data: enc.encode('[]') });
    nodes.set(id, start(id, storage, rand));
  }
  let net: Message[] = [];
  let groups = new Map<string, number>();
  const leaders = new Map<number, string>();
  const committed = new Map<number, string>();
  let proposals = 0;
  /** ReadIndex context -> highest commit index any node knew when the read was issued (linearizability). */
  const reads = new Map<string, number>();
  const where = (step: number): string => `seed ${seed} step ${step}`;

  const apply = (n: SimNode, e: Entry, step: number): void => {
    const v = `${e.term}:${e.kind === 'normal' ? dec.decode(e.data) : 'conf'}`;
    const prev = committed.get(e.index);
    assert.ok(
      prev === undefined || prev === v,
      `${where(step)}: node ${n.id} applied ${e.index}=${v}, others ${prev}`,
    );
    committed.set(e.index, v);
    n.applied.set(e.index, v);
  };

  const processReady = (n: SimNode, step: number): void => {
    const rd = n.raft.ready();
    if (rd.snapshot !== undefined) {
      void n.storage.installSnapshot(rd.snapshot);
      n.applied = new Map(JSON.parse(dec.decode(rd.snapshot.data)) as [number, string][]);
    }
    n.storage.append(rd.entries);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    if (rd.mustSync) void n.storage.sync();
    for (const m of rd.messages) {
      if (groups.size === 0 || groups.get(m.from) === groups.get(m.to)) net.push(m);
      else lost(m);
    }
    for (const e of rd.committed) apply(n, e, step);
    for (const rs of rd.readStates) {
      const ctx = dec.decode(rs.context);
      const need = reads.get(ctx) ?? Number.POSITIVE_INFINITY;
      assert.ok(
        rs.index >= need,
        `${where(step)}: read ${ctx} at ${rs.index}, but ${need} was committed before it`,
      );
    }
    n.raft.advance(rd);
    const st = n.raft.status();
    if (st.role === 'leader') {
      const other = leaders.get(st.term);
      assert.ok(
        other === undefined || other === n.id,
        `${where(step)}: leaders ${other} and ${n.id} in term ${st.term}`,
      );
      leaders.set(st.term, n.id);
    }
  };

  const settle = (step: number): void => {
    for (const n of nodes.values()) while (n.raft.hasReady()) processReady(n, step);
  };

  // As the shell does: a snapshot's fate is reported to the leader (it streams snapshots and knows).
  function lost(m: Message): void {
    if (m.type === 'snapshot') nodes.get(m.from)?.raft.reportSnapshot(m.to, false);
  }
  const deliverOne = (i: number): void => {
    const [m] = net.splice(i, 1);
    if (m === undefined) return;
    nodes.get(m.to)?.raft.step(m);
    if (m.type === 'snapshot') nodes.get(m.from)?.raft.reportSnapshot(m.to, true);
  };

  const removed = new Set<string>();
  function changeMembership(): void {
    const n = [...nodes.values()].find((x) => x.raft.status().role === 'leader');
    if (n === undefined) return;
    const st = n.raft.status();
    const { voters, learners } = st.conf;
    const strangers = IDS.filter((id) => !voters.includes(id) && !learners.includes(id) && !removed.has(id));
    const options: ConfChange[] = [
      ...strangers.map((node): ConfChange => ({ type: 'add-learner', node })),
      ...learners.map((node): ConfChange => ({ type: 'promote', node })),
      ...learners.map((node): ConfChange => ({ type: 'remove', node })),
      ...(voters.length > 3 ? voters.map((node): ConfChange => ({ type: 'remove', node })) : []),
    ];
    const cc = options[rand.int(options.length)];
    if (cc === undefined) return;
    try {
      n.raft.proposeConfChange(cc);
      if (cc.type === 'remove') removed.add(cc.node);
    } catch (e: unknown) {
      // Pending change, not yet committed in term, transfer in progress: expected refusals.
      if (!(e instanceof Error && e.name === 'ProposalDroppedError')) throw e;
    }
  }

  for (let step = 0; step < steps; step++) {
    const r = rand.next();
    const n = nodes.get(IDS[rand.int(IDS.length)] as string) as SimNode;
    if (r < 0.3) n.raft.tick();
    else if (r < 0.62 && net.length > 0) deliverOne(rand.int(net.length));
    else if (r < 0.66 && net.length > 0) net.splice(rand.int(net.length), 1).forEach(lost);
    else if (r < 0.68 && net.length > 0) net.push(net[rand.int(net.length)] as Message);
    else if (r < 0.8) {
      try {
        n.raft.propose(enc.encode(`p${proposals++}`));
      } catch (e: unknown) {
        // Refusals (not leader, transferring) are expected outcomes here, not failures.
        if (!(e instanceof Error && e.name === 'ProposalDroppedError')) throw e;
      }
    } else if (r < 0.83) {
      groups = new Map(IDS.map((id) => [id, rand.int(2)]));
    } else if (r < 0.86) {
      groups = new Map();
    } else if (r < 0.875) {
      settle(step);
      n.storage.crash();
      for (const m of net) if (m.to === n.id) lost(m);
      net = net.filter((m) => m.to !== n.id);
      nodes.set(n.id, start(n.id, n.storage, rand));
    } else if (r < 0.89) {
      settle(step);
      const st = n.raft.status();
      const snapIndex = n.storage.snapshot()?.meta.index ?? 0;
      if (st.applied > snapIndex) {
        const data = enc.encode(JSON.stringify([...n.applied].filter(([i]) => i <= st.applied)));
        void n.storage.saveSnapshot(n.raft.createSnapshot(st.applied, data), rand.int(3));
      }
    } else if (r < 0.892) {
      const ctx = `r${reads.size}`;
      reads.set(ctx, Math.max(...[...nodes.values()].map((x) => x.raft.status().commit)));
      try {
        n.raft.readIndex(enc.encode(ctx));
      } catch (e: unknown) {
        // No leader known: expected.
        if (!(e instanceof Error && e.name === 'ProposalDroppedError')) throw e;
      }
    } else if (r < 0.895) {
      changeMembership();
    } else if (r < 0.9) {
      const target = IDS[rand.int(IDS.length)] as string;
      try {
        n.raft.transferLeadership(target);
      } catch (e: unknown) {
        // Not leader: expected.
        if (!(e instanceof Error && e.name === 'ProposalDroppedError')) throw e;
      }
    }
    settle(step);
  }

  // Liveness: heal, deliver everything, keep time moving; a leader must emerge and commit a final proposal.
  groups = new Map();
  let done = false;
  for (let round = 0; round < 400 && !done; round++) {
    for (const n of nodes.values()) n.raft.tick();
    settle(steps + round);
    while (net.length > 0) {
      deliverOne(0);
      settle(steps + round);
    }
    const leader = [...nodes.values()].find((n) => n.raft.status().role === 'leader');
    if (leader !== undefined && round % 20 === 19) {
      try {
        leader.raft.propose(enc.encode('final'));
      } catch (e: unknown) {
        // A transfer may still be in progress; try again later.
        if (!(e instanceof Error && e.name === 'ProposalDroppedError')) throw e;
      }
    }
    if (leader === undefined) continue;
    const { voters, learners } = leader.raft.status().conf;
    done = [...voters, ...learners].every((id) =>
      [...(nodes.get(id) as SimNode).applied.values()].some((v) => v.endsWith(':final')),
    );
  }
  const statuses = [...nodes.values()].map((n) => JSON.stringify(n.raft.status()));
  assert.ok(done, `seed ${seed}: cluster did not converge after healing:\n${statuses.join('\n')}`);
}

describe('raft core randomized safety', () => {
  for (let seed = 1; seed <= Number(process.env['SIM_SEEDS'] ?? 30); seed++) {
    it(`seed ${seed}`, () => run(seed, 3000));
  }
});
