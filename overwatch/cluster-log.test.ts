import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { pino } from 'pino';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { startRaftNode } from '../internal/raft/node.js';
import { createMemoryStorage } from '../internal/raft/storage-memory.js';
import type { Transport } from '../internal/raft/transport.js';
import { createClusterLog, NotLeaderError } from './cluster-log.js';
import { command, createFsm, type EventRecord } from './fsm.js';

const log = pino({ level: 'silent' });

/** A transport for a single-voter cluster: there is nobody to send to. */
const noTransport = (): Transport => ({
  send: () => {},
  setPeer: () => {},
  removePeer: () => {},
  close: async () => {},
});

function appendEvent(reason: string): Command {
  return command(Date.now(), {
    case: 'appendEvent',
    value: { event: { reason, source: 'agent', details: {} } },
  });
}

/** One Raft node over memory storage, driving a cluster log; stopped after the test. */
function startOne(t: TestContext, bootstrap: boolean) {
  const fsm = createFsm();
  const applied: EventRecord[][] = [];
  const clog = createClusterLog({ fsm, log, onApplied: (e) => applied.push(e) });
  const raft = startRaftNode({
    id: 'n1',
    clusterId: 'c',
    storage: createMemoryStorage(),
    transport: noTransport,
    heartbeatTimeoutMs: 20,
    rand: { int: () => 0 },
    log,
    bootstrap,
    apply: (e) => clog.apply(e),
  });
  clog.attach(raft);
  t.after(() => raft.stop());
  return { clog, raft, applied, fsm };
}

async function leading(raft: { status(): { role: string } }): Promise<void> {
  const deadline = performance.now() + 5000;
  while (raft.status().role !== 'leader') {
    if (performance.now() > deadline) throw new Error('single bootstrapped node did not lead within 5000 ms');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('cluster decision log', () => {
  it('applies proposed commands in order and resolves with their events', async (t) => {
    const { clog, raft, applied } = startOne(t, true);
    await leading(raft);
    const events = await clog.propose([appendEvent('first'), appendEvent('second')]);
    assert.deepEqual(
      events.map((e) => e.reason),
      ['first', 'second'],
    );
    assert.deepEqual(
      applied.flat().map((e) => e.reason),
      ['first', 'second'],
    );
    assert.equal(clog.applied(), raft.status().applied);
    assert.deepEqual(await clog.propose([]), []);
  });

  it('rejects proposals on a node that is not the leader, naming the leader it knows', async (t) => {
    const { clog } = startOne(t, false);
    await assert.rejects(clog.propose([appendEvent('x')]), (e: unknown) => {
      assert.ok(e instanceof NotLeaderError);
      assert.equal(e.leaderHint, '');
      assert.match(e.message, /not the leader/);
      return true;
    });
  });

  it('refuses to propose before a Raft node is attached', async () => {
    const clog = createClusterLog({ fsm: createFsm(), log });
    await assert.rejects(clog.propose([appendEvent('x')]), /before the Raft node started/);
  });

  it('hands on the events a restored snapshot holds beyond what this node applied', () => {
    const leader = createFsm();
    for (const r of ['a', 'b', 'c']) leader.apply(appendEvent(r));
    const fsm = createFsm();
    fsm.apply(appendEvent('a'));
    const applied: EventRecord[][] = [];
    const clog = createClusterLog({ fsm, log, onApplied: (e) => applied.push(e) });
    clog.restore(leader.snapshot(), 3);
    assert.deepEqual(
      applied.flat().map((e) => [e.id, e.reason]),
      [
        [2, 'b'],
        [3, 'c'],
      ],
    );
    assert.equal(clog.applied(), 3);
  });
});
