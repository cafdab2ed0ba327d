/**
 * The server side of opengslb.v1.RaftService: turns incoming calls into core messages for the local node.
 * Every call is checked against the cluster id first (a node of another cluster must never vote or append
 * here); bad input answers INVALID_ARGUMENT and is logged at warn with the peer, and serving continues.
 */

import type { MessageInitShape } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type {
  ForwardRequest,
  ForwardResponseSchema,
  JoinRequest,
  JoinResponseSchema,
  LeaveRequest,
  RaftMessage,
  RaftService,
  TransferLeaderRequest,
  TransferLeaderResponseSchema,
} from '../gen/opengslb/v1/raft_pb.js';
import { GrpcError } from '../grpc/grpc-error.js';
import type { CallContext, ServiceImpl } from '../grpc/service.js';
import type { Message, MessageType } from './core/message.js';
import { messageFromWire, snapshotFromChunks } from './raft-wire.js';

/** Call metadata carrying the caller's own Raft address (see GrpcTransportOptions.advertiseAddress). */
export const RAFT_ADDRESS_METADATA = 'raft-address';

/** Largest snapshot accepted over InstallSnapshot by default: 1 GiB. */
export const DEFAULT_MAX_SNAPSHOT_BYTES = 1024 * 1024 * 1024;

/** Membership and forwarding calls; each answers UNIMPLEMENTED when left out. */
export interface RaftServiceHandlers {
  join?(req: JoinRequest, ctx: CallContext): Promise<MessageInitShape<typeof JoinResponseSchema>>;
  leave?(req: LeaveRequest, ctx: CallContext): Promise<void>;
  forward?(req: ForwardRequest, ctx: CallContext): Promise<MessageInitShape<typeof ForwardResponseSchema>>;
  transferLeader?(
    req: TransferLeaderRequest,
    ctx: CallContext,
  ): Promise<MessageInitShape<typeof TransferLeaderResponseSchema>>;
}

/** Options of {@link raftServiceImpl}. */
export interface RaftServiceOptions {
  log: Logger;
  handlers?: RaftServiceHandlers;
  /**
   * Told the sender id and advertised Raft address of every accepted call that carries one (RaftNode.hintPeer:
   * used only for peers without a known address).
   */
  onPeerAddress?(id: string, address: string): void;
  /** Largest snapshot accepted, in bytes. Default {@link DEFAULT_MAX_SNAPSHOT_BYTES}. */
  maxSnapshotBytes?: number;
  /**
   * A call from a node of another cluster was refused; `to` is the node it was addressed to when the call
   * carried a message ('' otherwise). Lets the shell notice that it was wiped and bootstrapped anew while its
   * old cluster still counts it as a member.
   */
  onForeignCluster?(clusterId: string, to: string): void;
}

const VOTE_TYPES: ReadonlySet<MessageType> = new Set(['vote', 'vote-resp', 'pre-vote', 'pre-vote-resp']);
/** Types that travel in their own RPCs and are refused in AppendEntries. */
const OWN_RPC_TYPES: ReadonlySet<MessageType> = new Set([...VOTE_TYPES, 'snapshot', 'timeout-now']);

/**
 * The RaftService implementation for `addService(server, RaftService, impl, { log })`. `deliver` hands a
 * validated message to the local node (RaftNode.step); it must not throw. Calls return as soon as the message
 * is handed over: replies travel as separate calls the other way.
 */
export function raftServiceImpl(
  deliver: (m: Message) => void,
  clusterId: string,
  opts: RaftServiceOptions,
): ServiceImpl<typeof RaftService> {
  const { log, handlers = {} } = opts;
  const maxSnapshotBytes = opts.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES;

  const checkCluster = (got: string, ctx: CallContext, to = ''): void => {
    if (got === clusterId) return;
    opts.onForeignCluster?.(got, to);
    log.warn(
      { peer: ctx.peer, method: ctx.method, clusterId: got },
      'refused Raft call from another cluster',
    );
    throw new GrpcError(
      status.FAILED_PRECONDITION,
      `cluster id ${JSON.stringify(got)} does not match this node's cluster ${JSON.stringify(clusterId)}`,
    );
  };
  const hint = (from: string, ctx: CallContext): void => {
    const [address] = ctx.metadata.get(RAFT_ADDRESS_METADATA);
    if (typeof address === 'string' && address !== '') opts.onPeerAddress?.(from, address);
  };
  const invalid = (ctx: CallContext, error: string): GrpcError => {
    log.warn({ peer: ctx.peer, method: ctx.method, reason: error }, 'refused invalid Raft call');
    return new GrpcError(status.INVALID_ARGUMENT, error);
  };
  /** Validates one wire message against the cluster and the types allowed in this RPC. */
  const decode = (w: RaftMessage | undefined, ctx: CallContext, allowed: (t: MessageType) => boolean) => {
    if (w === undefined) throw invalid(ctx, 'request carries no message');
    checkCluster(w.clusterId, ctx, w.to);
    const m = messageFromWire(w);
    if (!m.ok) throw invalid(ctx, m.error);
    if (!allowed(m.value.type)) throw invalid(ctx, `${m.value.type} message not accepted by ${ctx.method}`);
    hint(m.value.from, ctx);
    return m.value;
  };
  const unimplemented = (what: string): GrpcError =>
    new GrpcError(status.UNIMPLEMENTED, `${what} is not served by this node`);

  return {
    appendEntries(req, ctx) {
      // Validate the whole batch before delivering any of it, so a bad call has no partial effect.
      const msgs = req.messages.map((w) => decode(w, ctx, (t) => !OWN_RPC_TYPES.has(t)));
      for (const m of msgs) deliver(m);
      return {};
    },
    requestVote(req, ctx) {
      deliver(decode(req.message, ctx, (t) => VOTE_TYPES.has(t)));
      return {};
    },
    async installSnapshot(chunks, ctx) {
      const r = await snapshotFromChunks(chunks, maxSnapshotBytes, (m) => checkCluster(m.clusterId, ctx));
      if (!r.ok) throw invalid(ctx, r.error);
      hint(r.value.from, ctx);
      deliver(r.value);
      return {};
    },
    timeoutNow(req, ctx) {
      deliver(decode(req.message, ctx, (t) => t === 'timeout-now'));
      return {};
    },
    async join(req, ctx) {
      checkCluster(req.clusterId, ctx);
      if (handlers.join === undefined) throw unimplemented('Join');
      return handlers.join(req, ctx);
    },
    async leave(req, ctx) {
      checkCluster(req.clusterId, ctx);
      if (handlers.leave === undefined) throw unimplemented('Leave');
      await handlers.leave(req, ctx);
      return {};
    },
    async forward(req, ctx) {
      checkCluster(req.clusterId, ctx);
      if (handlers.forward === undefined) throw unimplemented('Forward');
      return handlers.forward(req, ctx);
    },
    async transferLeader(req, ctx) {
      checkCluster(req.clusterId, ctx);
      if (handlers.transferLeader === undefined) throw unimplemented('TransferLeader');
      return handlers.transferLeader(req, ctx);
    },
  };
}
