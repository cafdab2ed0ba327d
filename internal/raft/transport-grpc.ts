/**
 * The Transport over gRPC (opengslb.v1.RaftService). One client and one sender loop per peer: messages queued
 * while a call is in flight go out together in the next one, so a peer sees them in order and a slow peer
 * batches instead of multiplying calls. Every call has a deadline; a failed call drops its messages (Raft
 * retransmits) and reports the peer unreachable. The queue is bounded: a dead peer cannot grow memory.
 */
import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { RaftService } from '../gen/opengslb/v1/raft_pb.js';
import { createClient, type ServiceClient } from '../grpc/client.js';
import { GrpcError, statusName } from '../grpc/grpc-error.js';
import type { NodeId } from './core/config.js';
import type { Message } from './core/message.js';
import { RAFT_ADDRESS_METADATA } from './raft-service.js';
import { messageToWire, SNAPSHOT_CHUNK_BYTES, snapshotChunks } from './raft-wire.js';
import type { Snapshot } from './storage.js';
import type { Transport, TransportReports } from './transport.js';

/**
 * Reconnect backoff of every channel to a Raft port (transport, join, forwarded writes, transfers): grpc-js
 * defaults to 1 s rising to 120 s, far longer than an election, so a peer back from a restart would stay
 * unreachable long after it could vote again.
 */
export function raftChannelOptions(maxReconnectBackoffMs = 1000): ChannelOptions {
  return { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': maxReconnectBackoffMs };
}

/** Default per-peer queue bound, in messages. */
export const DEFAULT_MAX_QUEUED = 4096;
/** Entry bytes above which an AppendEntries batch is split, keeping calls well under the 4 MiB message limit. */
const BATCH_BYTES = 2 * 1024 * 1024;

/** Options of {@link createGrpcTransport}. */
export interface GrpcTransportOptions {
  credentials: ChannelCredentials;
  /** Leader heartbeat interval in ms; a call's deadline is 2 x this, at least 200 ms. */
  heartbeatIntervalMs: number;
  reports: TransportReports;
  /**
   * This node's own Raft address, sent as `raft-address` metadata on every call so a peer that has no log yet
   * (a joining learner) can answer a leader whose conf entry it has not received. Default: not sent.
   */
  advertiseAddress?: string;
  /** Component logger; per-peer lines add `peer`. */
  log: Logger;
  /** Reconnect backoff cap, in ms. Default 1000 (grpc-js would wait up to 120 s, longer than any election). */
  maxReconnectBackoffMs?: number;
  /** Messages queued per peer before the oldest are dropped. Default {@link DEFAULT_MAX_QUEUED}. */
  maxQueued?: number;
  /** Deadline of a whole InstallSnapshot stream, in ms. Default 60 000. */
  snapshotDeadlineMs?: number;
  /** Snapshot bytes per chunk. Default {@link SNAPSHOT_CHUNK_BYTES}. */
  snapshotChunkBytes?: number;
}

/** Per-peer counters, for metrics and tests. */
export interface PeerStats {
  /** Messages dropped because the queue was full. */
  dropped: number;
  /** Calls that failed (the messages in them were dropped). */
  failedCalls: number;
}

/** The gRPC transport, with its counters. */
export interface GrpcTransport extends Transport {
  stats(id: NodeId): PeerStats | undefined;
}

interface Peer {
  id: NodeId;
  address: string;
  client: ServiceClient<typeof RaftService>;
  queue: Message[];
  stats: PeerStats;
  /** Aborts the calls in flight when the peer is removed or replaced. */
  abort: AbortController;
  sending: boolean;
  log: Logger;
  /** Status code of the last failed call since the last success ('' none): a new kind of failure is logged once. */
  lastFailure: string;
}

type SnapshotMessage = Message & { snapshot: Snapshot };
const isSnapshot = (m: Message): m is SnapshotMessage => m.type === 'snapshot' && m.snapshot !== undefined;
const VOTES: ReadonlySet<string> = new Set(['vote', 'vote-resp', 'pre-vote', 'pre-vote-resp']);

/** Creates the transport; peers are added with setPeer. */
export function createGrpcTransport(opts: GrpcTransportOptions): GrpcTransport {
  const { reports, log } = opts;
  const maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
  const timeoutMs = Math.max(200, 2 * opts.heartbeatIntervalMs);
  const snapshotTimeoutMs = opts.snapshotDeadlineMs ?? 60_000;
  const chunkBytes = opts.snapshotChunkBytes ?? SNAPSHOT_CHUNK_BYTES;
  const channelOptions = raftChannelOptions(opts.maxReconnectBackoffMs);
  const metadata: Record<string, string> =
    opts.advertiseAddress === undefined ? {} : { [RAFT_ADDRESS_METADATA]: opts.advertiseAddress };
  const peers = new Map<NodeId, Peer>();
  let closed = false;

  /** A message that will never be sent: a snapshot still owes its report. */
  const dropped = (m: Message): void => {
    if (isSnapshot(m)) reports.snapshot(m.to, false);
  };

  function closePeer(p: Peer): void {
    p.abort.abort();
    for (const m of p.queue) dropped(m);
    p.queue = [];
    p.client.$close();
  }

  /** One call's worth of messages from the head of the queue, in order. */
  function takeBatch(p: Peer): Message[] {
    const first = p.queue[0];
    if (first === undefined) return [];
    if (isSnapshot(first) || first.type === 'timeout-now' || VOTES.has(first.type))
      return p.queue.splice(0, 1);
    let n = 0;
    let bytes = 0;
    for (const m of p.queue) {
      if (isSnapshot(m) || m.type === 'timeout-now' || VOTES.has(m.type)) break;
      const size = (m.entries ?? []).reduce((sum, e) => sum + e.data.byteLength, 0);
      if (n > 0 && bytes + size > BATCH_BYTES) break;
      bytes += size;
      n++;
    }
    return p.queue.splice(0, n);
  }

  async function call(p: Peer, batch: Message[]): Promise<void> {
    const [first] = batch;
    if (first === undefined) return;
    const o = { timeoutMs, signal: p.abort.signal, metadata };
    if (isSnapshot(first)) {
      await p.client.installSnapshot(snapshotChunks(first, chunkBytes), {
        ...o,
        timeoutMs: snapshotTimeoutMs,
      });
    } else if (first.type === 'timeout-now') {
      await p.client.timeoutNow({ message: messageToWire(first) }, o);
    } else if (VOTES.has(first.type)) {
      await p.client.requestVote({ message: messageToWire(first) }, o);
    } else {
      await p.client.appendEntries({ messages: batch.map(messageToWire) }, o);
    }
  }

  /** Drains the peer's queue, one call at a time, until it is empty or the peer is gone. */
  async function pump(p: Peer): Promise<void> {
    p.sending = true;
    try {
      while (p.queue.length > 0 && peers.get(p.id) === p) {
        const batch = takeBatch(p);
        const [first] = batch;
        try {
          await call(p, batch);
          p.lastFailure = '';
          if (first !== undefined && isSnapshot(first)) reports.snapshot(p.id, true);
        } catch (e: unknown) {
          p.stats.failedCalls++;
          const code = e instanceof GrpcError ? statusName(e.code) : 'UNKNOWN';
          // Every heartbeat to a dead peer fails: debug, not warn, or a dead peer floods the log. A refusal
          // (another cluster, a bad certificate) needs an operator: warn once per kind until a call succeeds.
          const refusal = code !== 'UNAVAILABLE' && code !== 'DEADLINE_EXCEEDED' && code !== 'CANCELLED';
          if (refusal && code !== p.lastFailure)
            p.log.warn({ err: e, code, messages: batch.length }, 'Raft peer refused the call');
          else p.log.debug({ err: e, code, messages: batch.length }, 'Raft call failed');
          p.lastFailure = code;
          if (first !== undefined && isSnapshot(first)) reports.snapshot(p.id, false);
          if (peers.get(p.id) === p) reports.unreachable(p.id);
        }
      }
    } finally {
      p.sending = false;
    }
  }

  function enqueue(p: Peer, m: Message): void {
    p.queue.push(m);
    if (p.queue.length > maxQueued) {
      const old = p.queue.shift();
      p.stats.dropped++;
      if (old !== undefined) dropped(old);
      if (p.stats.dropped % 1000 === 1)
        p.log.warn({ dropped: p.stats.dropped }, 'Raft peer queue full; dropping');
    }
  }

  return {
    send(msgs) {
      const touched = new Set<Peer>();
      for (const m of msgs) {
        const p = closed ? undefined : peers.get(m.to);
        if (p === undefined) {
          log.debug({ peer: m.to, type: m.type }, 'no address for Raft peer; message dropped');
          dropped(m);
          reports.unreachable(m.to);
          continue;
        }
        enqueue(p, m);
        touched.add(p);
      }
      for (const p of touched) {
        if (!p.sending) pump(p).catch((e: unknown) => p.log.error({ err: e }, 'Raft sender failed'));
      }
    },
    setPeer(id, address) {
      if (closed) return;
      const old = peers.get(id);
      if (old?.address === address) return;
      if (old !== undefined) closePeer(old);
      peers.set(id, {
        id,
        address,
        client: createClient(RaftService, address, opts.credentials, channelOptions),
        queue: [],
        stats: old?.stats ?? { dropped: 0, failedCalls: 0 },
        abort: new AbortController(),
        sending: false,
        lastFailure: '',
        log: log.child({ peer: id }),
      });
      log.info({ peer: id, address }, 'Raft peer address set');
    },
    removePeer(id) {
      const p = peers.get(id);
      if (p === undefined) return;
      peers.delete(id);
      closePeer(p);
    },
    async close() {
      closed = true;
      for (const p of peers.values()) closePeer(p);
      peers.clear();
    },
    stats: (id) => {
      const s = peers.get(id)?.stats;
      return s === undefined ? undefined : { ...s };
    },
  };
}
