/**
 * The core's public face (after etcd's rawnode.go): `createRaft` wires storage, log and protocol state, and
 * drives the Ready/advance handshake whose contract is documented in ready.ts.
 */
import { InvariantError } from '../errors.js';
import type { Entry, HardState, Snapshot } from '../storage.js';
import { describeConfState, encodeConfChange, encodeConfState } from './conf-change.js';
import { type NodeId, type RaftConfig, resolveRaftConfig } from './config.js';
import { SnapshotOutOfDateError } from './errors.js';
import { compactConfs, confAt, currentConf, loadConfs, onAppended } from './membership.js';
import type { Message, MessageType } from './message.js';
import { becomeProbe } from './progress.js';
import { becomeFollower, hup, type RaftState, type Role, stepRaft, tickRaft } from './raft.js';
import { createRaftLog } from './raft-log.js';
import type { ProgressStatus, RaftCore, Ready, SoftState, Status } from './ready.js';
import { recentlyActive } from './replication.js';
import { propose, proposeConfChange, readIndex, transferLeadership } from './requests.js';

const MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  'append',
  'append-resp',
  'vote',
  'vote-resp',
  'pre-vote',
  'pre-vote-resp',
  'heartbeat',
  'heartbeat-resp',
  'snapshot',
  'timeout-now',
  'read-index',
  'read-index-resp',
  'propose',
]);

function initialState(cfg: RaftConfig): RaftState {
  const c = resolveRaftConfig(cfg);
  const { storage } = c;
  const hs = storage.hardState();
  const snapIndex = storage.snapshot()?.meta.index ?? 0;
  const lastIndex = storage.lastIndex();
  const applied = c.applied ?? snapIndex;
  if (applied < storage.firstIndex() - 1 || applied > lastIndex) {
    throw new InvariantError(
      `raft: applied ${applied} is outside the log [${storage.firstIndex() - 1}, ${lastIndex}]`,
    );
  }
  // Applied and snapshotted entries are committed even if the persisted commit lags (it may, after a crash).
  const committed = Math.max(hs.commit, applied, snapIndex);
  if (committed > lastIndex)
    throw new InvariantError(`raft: commit ${committed} is beyond lastIndex ${lastIndex}`);
  const r: RaftState = {
    cfg: c,
    id: c.id,
    logger: c.logger,
    log: createRaftLog(storage, committed, applied),
    term: hs.term,
    vote: hs.vote,
    lead: '',
    role: { kind: 'follower' },
    confs: loadConfs(storage, c.logger),
    electionElapsed: 0,
    heartbeatElapsed: 0,
    randomizedElectionTimeout: c.electionTicks,
    msgs: [],
    readStates: [],
  };
  becomeFollower(r, hs.term, '');
  r.logger.info(
    { term: r.term, commit: committed, applied, lastIndex, conf: describeConfState(currentConf(r)) },
    'started',
  );
  return r;
}

/** Creates a node from `cfg.storage` (empty for a new node: call bootstrap() or wait to be added). */
export function createRaft(cfg: RaftConfig): RaftCore {
  const r = initialState(cfg);
  const { storage } = r.cfg;
  let prevSoft: SoftState = { leader: r.lead, role: r.role.kind };
  let prevHard: HardState = storage.hardState();
  let outstanding: Ready | undefined;

  const soft = (): SoftState => ({ leader: r.lead, role: r.role.kind });
  const hard = (): HardState => ({ term: r.term, vote: r.vote, commit: r.log.committed() });
  const softChanged = (s: SoftState): boolean => s.leader !== prevSoft.leader || s.role !== prevSoft.role;
  const hardChanged = (h: HardState): boolean =>
    h.term !== prevHard.term || h.vote !== prevHard.vote || h.commit !== prevHard.commit;

  function withLeader<T>(fn: (pr: Extract<Role, { kind: 'leader' }>) => T): T | undefined {
    return r.role.kind === 'leader' ? fn(r.role) : undefined;
  }

  return {
    tick: () => tickRaft(r),
    step(m: Message): void {
      if (m.clusterId !== r.cfg.clusterId) {
        r.logger.warn(
          { from: m.from, type: m.type, clusterId: m.clusterId },
          'dropped message from another cluster',
        );
        return;
      }
      if (m.to !== r.id || !MESSAGE_TYPES.has(m.type)) {
        r.logger.warn({ from: m.from, to: m.to, type: m.type }, 'dropped misaddressed or unknown message');
        return;
      }
      stepRaft(r, m);
    },
    propose: (data) => propose(r, data),
    proposeConfChange: (cc) => proposeConfChange(r, cc),
    transferLeadership: (to) => transferLeadership(r, to),
    readIndex: (ctx) => readIndex(r, ctx),
    campaign: () => hup(r, false),
    bootstrap(context?: Uint8Array): void {
      if (
        storage.lastIndex() !== 0 ||
        storage.snapshot() !== undefined ||
        r.term !== 0 ||
        r.log.lastIndex() !== 0
      ) {
        throw new InvariantError(
          `bootstrap: node already has state (term ${r.term}, lastIndex ${r.log.lastIndex()})`,
        );
      }
      becomeFollower(r, 1, '');
      const e: Entry = {
        index: 1,
        term: 1,
        kind: 'conf',
        data: encodeConfChange({
          type: 'add-voter',
          node: r.id,
          ...(context === undefined ? {} : { context }),
        }),
      };
      r.log.append([e]);
      onAppended(r, [e]);
      // A configuration of one voter that has the entry: committed by definition.
      r.log.commitTo(1);
    },
    hasReady(): boolean {
      if (outstanding !== undefined) return false;
      return (
        softChanged(soft()) ||
        hardChanged(hard()) ||
        r.log.unstable.entries.length > 0 ||
        r.log.unstable.snapshot !== undefined ||
        r.msgs.length > 0 ||
        r.readStates.length > 0 ||
        r.log.hasNextCommittedEnts()
      );
    },
    ready(): Ready {
      if (outstanding !== undefined) throw new InvariantError('ready: the previous Ready was not advanced');
      const s = soft();
      const h = hard();
      const entries = r.log.unstable.entries.slice();
      const rd: Ready = {
        entries,
        committed: r.log.nextCommittedEnts(),
        messages: r.msgs,
        readStates: r.readStates,
        mustSync: h.term !== prevHard.term || h.vote !== prevHard.vote || entries.length > 0,
      };
      r.msgs = [];
      r.readStates = [];
      if (softChanged(s)) rd.softState = s;
      if (hardChanged(h)) rd.hardState = h;
      const snap = r.log.unstable.snapshot;
      if (snap !== undefined) rd.snapshot = snap;
      outstanding = rd;
      return rd;
    },
    advance(rd: Ready): void {
      if (rd !== outstanding) throw new InvariantError('advance: not the Ready returned by the last ready()');
      outstanding = undefined;
      if (rd.softState !== undefined) prevSoft = rd.softState;
      if (rd.hardState !== undefined) prevHard = rd.hardState;
      if (rd.snapshot !== undefined) {
        const index = rd.snapshot.meta.index;
        r.log.stableSnapTo(index);
        if (index > r.log.applied()) r.log.appliedTo(index);
      }
      const lastEntry = rd.entries[rd.entries.length - 1];
      if (lastEntry !== undefined) r.log.stableTo(lastEntry.index, lastEntry.term);
      const lastCommitted = rd.committed[rd.committed.length - 1];
      if (lastCommitted !== undefined) r.log.appliedTo(lastCommitted.index);
    },
    status(): Status {
      const st: Status = {
        id: r.id,
        term: r.term,
        vote: r.vote,
        role: r.role.kind,
        leader: r.lead,
        commit: r.log.committed(),
        applied: r.log.applied(),
        lastIndex: r.log.lastIndex(),
        conf: currentConf(r),
      };
      withLeader((L) => {
        st.transferee = L.transferee;
        const progress: Record<NodeId, ProgressStatus> = {};
        for (const [id, pr] of L.progress) {
          progress[id] = {
            match: pr.match,
            next: pr.next,
            state: pr.state,
            recentActive: id === r.id || recentlyActive(r, L, pr),
          };
        }
        st.progress = progress;
      });
      return st;
    },
    createSnapshot(index: number, data: Uint8Array): Snapshot {
      // A leader's snapshot waiting in the core replaces the log below it: the local state at `index` is stale
      // and the index may be gone (the simulator found this: seed 96, crashes profile, 5 nodes).
      const pending = r.log.unstable.snapshot;
      if (pending !== undefined) {
        throw new SnapshotOutOfDateError(
          index,
          `a snapshot from the leader at ${pending.meta.index} is pending`,
        );
      }
      const stored = storage.snapshot()?.meta.index ?? 0;
      if (index <= stored) throw new SnapshotOutOfDateError(index, `storage has a snapshot at ${stored}`);
      if (index > r.log.applied()) {
        throw new InvariantError(`createSnapshot: index ${index} is beyond applied ${r.log.applied()}`);
      }
      const term = r.log.term(index);
      if (term === undefined || index < 1) {
        throw new InvariantError(
          `createSnapshot: index ${index} is compacted or empty (firstIndex ${r.log.firstIndex()})`,
        );
      }
      // Snapshots only move forward, so configurations before the stored snapshot are no longer needed.
      compactConfs(r, storage.snapshot()?.meta.index ?? 0);
      return { meta: { index, term, conf: encodeConfState(confAt(r, index)) }, data };
    },
    reportUnreachable(id: NodeId): void {
      withLeader((L) => {
        const pr = L.progress.get(id);
        if (pr?.state !== 'replicate') return;
        r.logger.debug({ to: id }, 'peer unreachable; probing');
        becomeProbe(pr);
      });
    },
    reportSnapshot(id: NodeId, ok: boolean): void {
      withLeader((L) => {
        const pr = L.progress.get(id);
        if (pr?.state !== 'snapshot') return;
        r.logger.info({ to: id, ok }, 'snapshot send finished');
        // On failure forget the snapshot, or probing would start after an index the follower never got.
        if (!ok) pr.pendingSnapshot = 0;
        becomeProbe(pr);
        // Wait for the follower's answer (or the next heartbeat) before sending appends.
        pr.probeSent = true;
      });
    },
  };
}
