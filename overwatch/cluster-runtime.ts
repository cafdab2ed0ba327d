/**
 * Cluster mode's Raft shell around the decision log: cluster identity (`<dataDir>/cluster-id`), the Raft
 * storage (`<dataDir>/raft`), the RaftService listener on cluster.bind_address, joining through any member,
 * and the leader's promotion of caught-up learners to voters.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { credentials, status as grpcStatus, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { parseHostPort } from '../internal/config/checks.js';
import { type JoinRequest, RaftService } from '../internal/gen/opengslb/v1/raft_pb.js';
import { createClient } from '../internal/grpc/client.js';
import { GrpcError } from '../internal/grpc/grpc-error.js';
import { createGrpcServer } from '../internal/grpc/server.js';
import { addService } from '../internal/grpc/service.js';
import { decodeConfChange } from '../internal/raft/core/conf-change.js';
import type { SoftState } from '../internal/raft/core/ready.js';
import { type RaftNode, startRaftNode } from '../internal/raft/node.js';
import { raftServiceImpl } from '../internal/raft/raft-service.js';
import { decodeMemberAddresses, encodeMemberAddresses } from '../internal/raft/raft-wire.js';
import type { Entry } from '../internal/raft/storage.js';
import { openFileStorage } from '../internal/raft/storage-file.js';
import { createGrpcTransport } from '../internal/raft/transport-grpc.js';
import { clusterIdentity } from './cluster-identity.js';
import { type ClusterLog, NotLeaderError } from './cluster-log.js';
import type { ClusterMemberView, ClusterStatusView, ClusterView } from './cluster-view.js';

/** Addresses a member advertises (carried in its add-learner conf entry). */
export interface MemberAddressBook {
  raft: string;
  grpc: string;
  api: string;
  dns: string;
}

/** Options of {@link startClusterRuntime}. */
export interface ClusterRuntimeOptions {
  nodeId: string;
  dataDir: string;
  bindAddress: string;
  /** Raft address peers use; also sent as the `raft-address` hint. */
  advertise: MemberAddressBook;
  bootstrap: boolean;
  join: readonly string[];
  heartbeatTimeoutMs: number;
  clog: ClusterLog;
  log: Logger;
  onSoftState(s: SoftState): void;
}

/** The running cluster member. */
export interface ClusterRuntime extends ClusterView {
  raft: RaftNode;
  clusterId: string;
  isLeader(): boolean;
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

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function hostPortOf(address: string): { host: string; port: number } {
  const hp = parseHostPort(address);
  if (hp === undefined) throw new Error(`cluster: invalid Raft address ${JSON.stringify(address)}`); // validated at load
  return hp;
}

/** Opens storage, establishes identity, binds the RaftService and starts the Raft node. */
export async function startClusterRuntime(o: ClusterRuntimeOptions): Promise<ClusterRuntime> {
  const { log, nodeId, clog } = o;
  const storage = await openFileStorage(join(o.dataDir, 'raft'));
  const hasState = storage.lastIndex() > 0 || storage.snapshot() !== undefined;
  let clusterId: string;
  try {
    clusterId = await clusterIdentity(o, hasState);
  } catch (e: unknown) {
    await storage.close();
    throw e;
  }
  const book = new Map<string, MemberAddressBook>([[nodeId, o.advertise]]);
  const hinted = new Map<string, string>();
  const target: { node: RaftNode | undefined } = { node: undefined };
  /** handOff's waits for a role change (notified from the node's soft-state callback). */
  const softWaiters = new Set<(s: SoftState) => void>();

  const handleJoin = async (req: JoinRequest): Promise<{ leaderId: string; clusterId: string }> => {
    const node = target.node;
    if (node === undefined)
      throw new GrpcError(grpcStatus.UNAVAILABLE, 'cluster: Raft node not started yet; retry');
    const st = node.status();
    if (st.role !== 'leader') {
      const leaderAddr = st.leader === '' ? undefined : addressOf(st.leader);
      if (leaderAddr === undefined)
        throw new GrpcError(grpcStatus.UNAVAILABLE, 'cluster: no leader known yet; retry');
      const client = createClient(RaftService, leaderAddr, credentials.createInsecure());
      try {
        return await client.join({ ...req, clusterId }, { timeoutMs: CALL_TIMEOUT_MS });
      } finally {
        client.$close();
      }
    }
    const already = st.conf.voters.includes(req.nodeId) || st.conf.learners.includes(req.nodeId);
    if (!already) {
      const a = req.addresses;
      const context = encodeMemberAddresses({
        raft: a?.raft ?? '',
        grpc: a?.grpc ?? '',
        api: a?.api ?? '',
        dns: a?.dns ?? '',
      });
      const deadline = performance.now() + CALL_TIMEOUT_MS;
      // A pending conf change (another join, a promotion) drops this one: retry until it commits.
      for (;;) {
        try {
          await node.proposeConfChange({ type: 'add-learner', node: req.nodeId, context });
          break;
        } catch (e: unknown) {
          if (performance.now() > deadline) throw e;
          await pause(50);
        }
      }
      log.info({ peer: req.nodeId, raft: a?.raft }, 'added joining node as a learner');
    }
    return { leaderId: nodeId, clusterId };
  };

  // The leader's side of a follower's forwarded write: propose, answer once applied here.
  const handleForward = async (command: Uint8Array): Promise<{ index: bigint }> => {
    const node = target.node;
    if (node === undefined)
      throw new GrpcError(grpcStatus.UNAVAILABLE, 'cluster: Raft node not started yet; retry');
    if (command.byteLength === 0) return { index: BigInt(await node.readIndex()) };
    try {
      return { index: BigInt(await clog.proposeEncoded(command)) };
    } catch (e: unknown) {
      // Leadership moved or a transfer is in flight: the follower answers "no leader, retry".
      throw new GrpcError(grpcStatus.UNAVAILABLE, `cluster: ${nodeId} cannot take the write now; retry`, {
        cause: e,
      });
    }
  };

  const impl = raftServiceImpl((m) => target.node?.step(m), clusterId, {
    log,
    handlers: { forward: (req) => handleForward(req.command) },
    onPeerAddress: (id, address) => {
      hinted.set(id, address);
      target.node?.hintPeer(id, address);
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
      return handleJoin(req);
    },
  };
  const bind = hostPortOf(o.bindAddress);
  const server = createGrpcServer({
    host: bind.host,
    port: bind.port,
    credentials: ServerCredentials.createInsecure(),
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
    rand: { int: (n) => randomInt(n) },
    log,
    bootstrap: o.bootstrap,
    // The first member's addresses travel in its conf entry like a joining node's (followers redirect agents
    // to the leader's gRPC address from it).
    bootstrapContext: encodeMemberAddresses(o.advertise),
    transport: (reports) =>
      createGrpcTransport({
        credentials: credentials.createInsecure(),
        heartbeatIntervalMs: o.heartbeatTimeoutMs / 10,
        advertiseAddress: o.advertise.raft,
        reports,
        log,
      }),
    apply: applyEntry,
    onSoftState: (s) => {
      o.onSoftState(s);
      for (const w of softWaiters) w(s);
    },
  });
  target.node = node;
  // A follower's writes: forwarded to the leader it knows; no leader (or an unreachable one) is NotLeaderError.
  clog.attach(node, async (command) => {
    const st = node.status();
    const leaderAddr = st.leader === '' || st.leader === nodeId ? undefined : addressOf(st.leader);
    if (leaderAddr === undefined) throw new NotLeaderError('');
    const client = createClient(RaftService, leaderAddr, credentials.createInsecure());
    try {
      const resp = await client.forward({ clusterId, command }, { timeoutMs: CALL_TIMEOUT_MS });
      return Number(resp.index);
    } catch (e: unknown) {
      if (
        e instanceof GrpcError &&
        (e.code === grpcStatus.UNAVAILABLE || e.code === grpcStatus.DEADLINE_EXCEEDED)
      )
        throw new NotLeaderError('');
      throw e;
    } finally {
      client.$close();
    }
  });

  // The leader promotes a learner once it has the whole committed log (its match reached the commit index).
  let promoting = false;
  const promoter = setInterval(() => {
    const st = node.status();
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
      isLeader: st.role === 'leader',
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
      return {
        id,
        address: addressOf(id) ?? '',
        state: !voter ? 'NonVoter' : id === st.leader ? 'Leader' : 'Follower',
        isVoter: voter,
        grpc: a?.grpc ?? '',
        api: a?.api ?? '',
        dns: a?.dns ?? '',
      };
    });
  };

  return {
    raft: node,
    clusterId,
    isLeader: () => node.status().role === 'leader',
    async handOff() {
      const st = node.status();
      if (st.role !== 'leader') return;
      const others = st.conf.voters.filter((v) => v !== nodeId);
      let best: string | undefined;
      let bestMatch = -1;
      for (const v of others) {
        const m = st.progress?.[v]?.match ?? 0;
        if (m > bestMatch) {
          best = v;
          bestMatch = m;
        }
      }
      if (best === undefined) return; // a single voter has no one to hand off to
      try {
        node.transferLeadership(best);
      } catch (e: unknown) {
        log.warn({ err: e, peer: best }, 'leadership transfer refused; shutting down without it');
        return;
      }
      log.info({ peer: best, match: bestMatch }, 'transferring leadership before shutdown');
      // The election timeout T is heartbeatTimeoutMs (RaftNodeOptions); a transfer that has not finished
      // within 2 T has failed (the core aborts it after one election timeout).
      const waitMs = 2 * o.heartbeatTimeoutMs;
      const handed = await new Promise<boolean>((resolve) => {
        const done = (ok: boolean): void => {
          clearTimeout(timer);
          softWaiters.delete(check);
          resolve(ok);
        };
        const check = (s: SoftState): void => {
          if (s.role !== 'leader' && s.leader !== '' && s.leader !== nodeId) done(true);
        };
        const timer = setTimeout(() => done(false), waitMs);
        softWaiters.add(check);
      });
      if (handed) log.info({ leader: node.status().leader }, 'leadership handed off');
      else log.warn({ peer: best, waited_ms: waitMs }, 'leadership transfer did not finish in time');
    },
    status,
    members,
    async close() {
      clearInterval(promoter);
      await node.stop();
      await server.close(0);
      await storage.close();
    },
  };
}
