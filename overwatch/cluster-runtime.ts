/**
 * Cluster mode's Raft shell around the decision log: cluster identity (`<dataDir>/cluster-id`), the Raft
 * storage (`<dataDir>/raft`), the RaftService listener on cluster.bind_address (mutual TLS when
 * cluster.raft.tls is set), membership operations (./cluster-membership.ts), forwarding a follower's writes
 * over one cached leader channel (./cluster-peers.ts), and the leader's promotion of caught-up learners.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { parseHostPort } from '../internal/config/checks.js';
import { RaftService } from '../internal/gen/opengslb/v1/raft_pb.js';
import { GrpcError } from '../internal/grpc/grpc-error.js';
import { createGrpcServer } from '../internal/grpc/server.js';
import { addService } from '../internal/grpc/service.js';
import { decodeConfChange, isMember } from '../internal/raft/core/conf-change.js';
import type { SoftState } from '../internal/raft/core/ready.js';
import { type RaftNode, startRaftNode } from '../internal/raft/node.js';
import { raftServiceImpl } from '../internal/raft/raft-service.js';
import { decodeMemberAddresses, encodeMemberAddresses } from '../internal/raft/raft-wire.js';
import { resolveSnapshotPolicy } from '../internal/raft/snapshot-policy.js';
import type { Entry } from '../internal/raft/storage.js';
import { openFileStorage } from '../internal/raft/storage-file.js';
import { createGrpcTransport } from '../internal/raft/transport-grpc.js';
import { clusterIdentity } from './cluster-identity.js';
import { type ClusterLog, NotLeaderError } from './cluster-log.js';
import { bestVoter, createMembership, type Membership } from './cluster-membership.js';
import { createLeaderClients } from './cluster-peers.js';
import { type RaftTlsFiles, raftCredentials } from './cluster-tls.js';
import type { ClusterMemberView, ClusterStatusView, ClusterView } from './cluster-view.js';
import { dialable } from './dialable.js';

/** Addresses a member advertises (carried in its add-learner conf entry). */
export interface MemberAddressBook {
  raft: string;
  /** Gossip address ('' when gossip is not configured). */
  gossip: string;
  grpc: string;
  api: string;
  dns: string;
}

/** Options of {@link startClusterRuntime}. */
export interface ClusterRuntimeOptions {
  /** Leader: run after a forwarded write is applied, before answering (the decision loop's settle). */
  afterForwardedWrite?(): Promise<void>;
  nodeId: string;
  dataDir: string;
  bindAddress: string;
  /** Raft address peers use; also sent as the `raft-address` hint. */
  advertise: MemberAddressBook;
  bootstrap: boolean;
  join: readonly string[];
  heartbeatTimeoutMs: number;
  /** cluster.raft.tls: all three set = mutual TLS on the Raft port and for every Raft client; all empty = plaintext. */
  tls: RaftTlsFiles;
  /** cluster.raft.snapshot_threshold: applied entries between snapshots (also the trailing entries kept). */
  snapshotThreshold: number;
  /** cluster.raft.snapshot_interval: a snapshot is also taken this long after the last if anything was applied. */
  snapshotIntervalMs: number;
  /** A candidate's election lasts [E, 2E) with E = this, in ms (cluster.raft.election_timeout). */
  electionTimeoutMs: number;
  clog: ClusterLog;
  log: Logger;
  onSoftState(s: SoftState, term: number): void;
}

/** The running cluster member. */
export interface ClusterRuntime extends ClusterView {
  raft: RaftNode;
  clusterId: string;
  /** Leads and may serve (false while {@link ClusterRuntime.conflict} is set). */
  isLeader(): boolean;
  /**
   * The other cluster's id when this freshly bootstrapped node found that another cluster still counts it as
   * a member (a wiped node-1 restarted with --bootstrap): it must not serve DNS or decide. Undefined normally.
   */
  conflict(): string | undefined;
  /** Removal and leadership transfer (admin RemoveMember, TransferLeadership). */
  membership: Pick<Membership, 'remove' | 'transfer'>;
  /** Index of the latest Raft snapshot on disk (0 none): opengslb_cluster_snapshot_index. */
  snapshotIndex(): number;
  /**
   * On the leader: members (itself included) heard from within the election timeout. Undefined elsewhere: a
   * follower hears only from the leader and cannot tell whether the others are up.
   */
  reachableMembers(): number | undefined;
  /**
   * On the leader: transfers leadership to the most up-to-date other voter and waits (at most two election
   * timeouts) until another node leads, so shutting down leaves no election-timeout gap. Elsewhere a no-op.
   * Never leaves the configuration: a stopped member is expected back.
   */
  handOff(): Promise<void>;
  close(): Promise<void>;
}

const CALL_TIMEOUT_MS = 5_000;
const PROMOTE_EVERY_MS = 100;

function hostPortOf(address: string): { host: string; port: number } {
  const hp = parseHostPort(address);
  if (hp === undefined) throw new Error(`cluster: invalid Raft address ${JSON.stringify(address)}`); // validated at load
  return hp;
}

/** Opens storage, establishes identity, binds the RaftService and starts the Raft node. */
export async function startClusterRuntime(o: ClusterRuntimeOptions): Promise<ClusterRuntime> {
  const { log, nodeId, clog } = o;
  // Before anything is opened: an unusable certificate fails start-up with the file named.
  const creds = raftCredentials(o.tls);
  const storage = await openFileStorage(join(o.dataDir, 'raft'));
  const hasState = storage.lastIndex() > 0 || storage.snapshot() !== undefined;
  let clusterId: string;
  try {
    clusterId = await clusterIdentity({ ...o, raftClient: creds.client }, hasState);
  } catch (e: unknown) {
    await storage.close();
    throw e;
  }
  const book = new Map<string, MemberAddressBook>([[nodeId, o.advertise]]);
  const hinted = new Map<string, string>();
  const bootstrappedNow = o.bootstrap && !hasState;
  /** Set when this node must not serve: see onForeignCluster below. */
  let conflict: string | undefined;
  const target: { node: RaftNode | undefined } = { node: undefined };
  /** Waits for a role change (transfers), notified from the node's soft-state callback. */
  const softWaiters = new Set<(s: SoftState) => void>();

  const leaderClients = createLeaderClients(creds.client);
  const waitSoftState = (pred: (s: SoftState) => boolean, ms: number): Promise<boolean> => {
    const now = target.node?.status();
    if (now !== undefined && pred({ role: now.role, leader: now.leader })) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        softWaiters.delete(check);
        resolve(ok);
      };
      const check = (s: SoftState): void => {
        if (pred(s)) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      softWaiters.add(check);
    });
  };
  const membership = createMembership({
    nodeId,
    clusterId,
    node: () => target.node,
    leaderClients,
    raftAddressOf: (id) => addressOf(id),
    heartbeatTimeoutMs: o.heartbeatTimeoutMs,
    waitSoftState,
    log,
  });

  // The leader's side of a follower's forwarded write: propose, answer once applied here.
  const handleForward = async (command: Uint8Array): Promise<{ index: bigint }> => {
    const node = target.node;
    if (node === undefined)
      throw new GrpcError(grpcStatus.UNAVAILABLE, 'cluster: Raft node not started yet; retry');
    if (command.byteLength === 0) return { index: BigInt(await node.readIndex()) };
    try {
      const index = await clog.proposeEncoded(command);
      // The decisions the write causes (a cleared drain, a forced state) are made and applied here before the
      // follower is answered, and the index it waits for covers them: the next DNS query reflects the write on
      // whichever node the operator used, as on the leader itself.
      await o.afterForwardedWrite?.();
      return { index: BigInt(Math.max(index, clog.applied())) };
    } catch (e: unknown) {
      // Leadership moved or a transfer is in flight: the follower answers "no leader, retry".
      throw new GrpcError(grpcStatus.UNAVAILABLE, `cluster: ${nodeId} cannot take the write now; retry`, {
        cause: e,
      });
    }
  };

  const impl = raftServiceImpl((m) => target.node?.step(m), clusterId, {
    log,
    handlers: {
      forward: (req) => handleForward(req.command),
      // The forwarded form of `opengslbctl members remove`.
      leave: (req) => membership.remove(req.nodeId),
      transferLeader: async (req) => ({ leaderId: await membership.transfer(req.target, true) }),
    },
    onPeerAddress: (id, address) => {
      hinted.set(id, address);
      target.node?.hintPeer(id, address);
    },
    // A node that was wiped and started again with --bootstrap (the seed's node-1 keeps BOOTSTRAP=true) forms
    // a new one-node cluster, while its old cluster still lists it and keeps calling it by name. Serving DNS
    // then would put a second leader next to the real one: stop answering and say what to do instead.
    onForeignCluster: (other, to) => {
      if (conflict !== undefined || !bootstrappedNow || to !== nodeId) return;
      const st = target.node?.status();
      if (st === undefined || st.conf.voters.length !== 1 || st.conf.learners.length > 0) return;
      conflict = other;
      log.error(
        { cluster_id: clusterId, other_cluster_id: other, data_dir: o.dataDir },
        'this node bootstrapped a new cluster, but members of another cluster still count it as theirs (was its data dir wiped?); it stops serving. Remove it there (opengslbctl members remove), wipe its data dir again and start it with --join instead of --bootstrap',
      );
    },
  });
  // A joining node does not know the cluster id yet: Join is the one call accepted without it.
  const service: typeof impl = {
    ...impl,
    async join(req) {
      if (req.clusterId !== '' && req.clusterId !== clusterId)
        throw new GrpcError(
          grpcStatus.FAILED_PRECONDITION,
          `cluster id ${JSON.stringify(req.clusterId)} does not match this node's cluster ${JSON.stringify(clusterId)}`,
        );
      return membership.join(req);
    },
  };
  const bind = hostPortOf(o.bindAddress);
  const server = createGrpcServer({
    host: bind.host,
    port: bind.port,
    credentials: creds.server,
    log,
  });
  addService(server.server, RaftService, service, { log });
  try {
    await server.start();
  } catch (e: unknown) {
    await storage.close();
    throw e;
  }

  const applyEntry = (e: Entry): void => {
    if (e.kind === 'conf') {
      const cc = decodeConfChange(e.data);
      if (cc.ok && cc.value.context !== undefined) {
        const a = decodeMemberAddresses(cc.value.context);
        if (a.ok)
          book.set(cc.value.node, {
            raft: a.value.raft,
            gossip: a.value.gossip,
            grpc: a.value.grpc,
            api: a.value.api,
            dns: a.value.dns,
          });
      }
      return;
    }
    clog.apply(e);
  };
  const node = startRaftNode({
    id: nodeId,
    clusterId,
    storage,
    heartbeatTimeoutMs: o.heartbeatTimeoutMs,
    electionTimeoutMs: o.electionTimeoutMs,
    rand: { int: (n) => randomInt(n) },
    log,
    bootstrap: o.bootstrap,
    // The first node's addresses ride in the bootstrap conf entry, as a joining node's do in add-learner.
    bootstrapContext: encodeMemberAddresses(o.advertise),
    snapshots: {
      policy: resolveSnapshotPolicy({
        thresholdEntries: o.snapshotThreshold,
        intervalMs: o.snapshotIntervalMs,
      }),
      capture: () => clog.snapshot(),
    },
    restore: (state, meta, members) => {
      // Members are the configuration's at meta.index; this node's own addresses are what it advertises now.
      book.clear();
      for (const [id, a] of members)
        book.set(id, { raft: a.raft, gossip: a.gossip, grpc: a.grpc, api: a.api, dns: a.dns });
      book.set(nodeId, o.advertise);
      clog.restore(state, meta.index);
    },
    transport: (reports) =>
      createGrpcTransport({
        // No server-name override is ever set for Raft; the transport sets the same reconnect backoff itself.
        credentials: creds.client.credentials,
        heartbeatIntervalMs: o.heartbeatTimeoutMs / 10,
        advertiseAddress: o.advertise.raft,
        reports,
        log,
      }),
    apply: applyEntry,
    onSoftState: (s, term) => {
      o.onSoftState(s, term);
      for (const w of softWaiters) w(s);
    },
  });
  target.node = node;
  // A follower's writes: forwarded to the leader it knows; no leader (or an unreachable one) is NotLeaderError.
  clog.attach(node, async (command) => {
    const st = node.status();
    const leaderAddr = st.leader === '' || st.leader === nodeId ? undefined : addressOf(st.leader);
    if (leaderAddr === undefined) throw new NotLeaderError('');
    try {
      const resp = await leaderClients
        .get(leaderAddr)
        .forward({ clusterId, command }, { timeoutMs: CALL_TIMEOUT_MS });
      return Number(resp.index);
    } catch (e: unknown) {
      if (
        e instanceof GrpcError &&
        (e.code === grpcStatus.UNAVAILABLE || e.code === grpcStatus.DEADLINE_EXCEEDED)
      )
        throw new NotLeaderError('');
      throw e;
    }
  });

  // The leader promotes a learner once it has the whole committed log (its match reached the commit index).
  let promoting = false;
  /** Whether this node was seen in the configuration, so a removal is logged once (a joiner is not in it yet). */
  let wasMember = false;
  const promoter = setInterval(() => {
    const st = node.status();
    const member = isMember(st.conf, nodeId);
    if (wasMember && !member)
      log.warn(
        { node: nodeId },
        'this node was removed from the cluster configuration: it no longer votes or campaigns; stop it (to rejoin, wipe its data dir and start it with --join)',
      );
    wasMember = member;
    if (promoting || st.role !== 'leader' || st.progress === undefined) return;
    const ready = st.conf.learners.find((l) => (st.progress?.[l]?.match ?? 0) >= st.commit);
    if (ready === undefined) return;
    promoting = true;
    node
      .proposeConfChange({ type: 'promote', node: ready })
      .then(
        () => log.info({ peer: ready }, 'promoted caught-up learner to voter'),
        (e: unknown) => log.warn({ err: e, peer: ready }, 'promotion not accepted; retrying'),
      )
      .finally(() => {
        promoting = false;
      });
  }, PROMOTE_EVERY_MS);

  function addressOf(id: string): string | undefined {
    const a = book.get(id)?.raft;
    return a !== undefined && a !== '' ? a : hinted.get(id);
  }

  const status = (): ClusterStatusView => {
    const st = node.status();
    return {
      mode: 'cluster',
      nodeId,
      isLeader: conflict === undefined && st.role === 'leader',
      leaderId: st.leader,
      leaderAddress: st.leader === '' ? '' : (addressOf(st.leader) ?? ''),
      clusterSize: st.conf.voters.length + st.conf.learners.length,
      state:
        st.role === 'leader'
          ? 'leader'
          : st.role === 'candidate' || st.role === 'pre-candidate'
            ? 'candidate'
            : 'follower',
      term: st.term,
      commitIndex: st.commit,
      lastApplied: st.applied,
    };
  };
  const members = (): ClusterMemberView[] => {
    const st = node.status();
    const ids = [...st.conf.voters, ...st.conf.learners].sort();
    return ids.map((id) => {
      const voter = st.conf.voters.includes(id);
      const a = book.get(id);
      const raft = addressOf(id) ?? '';
      // Listeners advertised as wildcards (the seed's ":8080") are shown with the member's Raft host.
      const show = (listen: string | undefined): string =>
        listen === undefined ? '' : (dialable(listen, raft) ?? listen);
      return {
        id,
        address: raft,
        state: !voter ? 'NonVoter' : id === st.leader ? 'Leader' : 'Follower',
        isVoter: voter,
        gossip: show(a?.gossip),
        grpc: show(a?.grpc),
        api: show(a?.api),
        dns: show(a?.dns),
      };
    });
  };

  return {
    raft: node,
    clusterId,
    isLeader: () => conflict === undefined && node.status().role === 'leader',
    conflict: () => conflict,
    membership,
    snapshotIndex: () => storage.snapshot()?.meta.index ?? 0,
    reachableMembers: () => {
      const st = node.status();
      if (st.role !== 'leader' || st.progress === undefined) return undefined;
      return [...st.conf.voters, ...st.conf.learners].filter((id) => st.progress?.[id]?.recentActive === true)
        .length;
    },
    async handOff() {
      const st = node.status();
      if (st.role !== 'leader' || bestVoter(st, nodeId) === undefined) return; // a single voter keeps leading
      try {
        const leader = await membership.transfer('');
        log.info({ leader }, 'leadership handed off before shutdown');
      } catch (e: unknown) {
        log.warn({ err: e }, 'leadership hand-off failed; shutting down without it');
      }
    },
    status,
    members,
    async close() {
      clearInterval(promoter);
      leaderClients.close();
      await node.stop();
      await server.close(0);
      await storage.close();
    },
  };
}
