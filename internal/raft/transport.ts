/**
 * The transport port of the Raft shell (node.ts): one-way delivery of core messages to peers. Replies are
 * ordinary messages travelling the other way, so a send never waits for an answer and never fails: a message
 * that cannot be delivered is dropped and Raft's retransmission (heartbeats, probes) recovers. The gRPC
 * implementation is transport-grpc.ts; the simulator brings its own.
 */
import type { NodeId } from './core/config.js';
import type { Message } from './core/message.js';

/** Outcomes the transport reports back to the core (RaftCore.reportUnreachable / reportSnapshot). */
export interface TransportReports {
  /** A message to `id` could not be delivered (no address, call failed, queue overflow). */
  unreachable(id: NodeId): void;
  /**
   * A snapshot message to `id` was delivered (`ok`) or given up on. Called exactly once per snapshot message
   * passed to `send`, because the core sends that follower nothing but heartbeats until it hears the outcome.
   */
  snapshot(id: NodeId, ok: boolean): void;
}

/** Delivers Raft messages to peers by id. */
export interface Transport {
  /** Queues messages for delivery, in order per peer. Never throws for an unknown or dead peer. */
  send(msgs: Message[]): void;
  /** Sets or replaces the address (`host:port` of its Raft port) of peer `id`. */
  setPeer(id: NodeId, address: string): void;
  /** Forgets peer `id`, dropping its queued messages. */
  removePeer(id: NodeId): void;
  /** Drops queued messages, cancels calls in flight and closes every channel. */
  close(): Promise<void>;
}

/**
 * How the node creates its transport: the node passes the reports that lead back into its core, and owns the
 * result (it closes it on stop()).
 */
export type TransportFactory = (reports: TransportReports) => Transport;
