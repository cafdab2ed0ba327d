/**
 * Pending ReadIndex requests on a leader (Raft thesis §6.4; after etcd's read_only.go). A request records the
 * commit index when it arrives; it may be answered once a quorum of voters acknowledged a heartbeat sent
 * after it, proving no newer leader existed at that point. Heartbeats carry the newest pending context, and
 * an acknowledgement of one context also confirms every request queued before it.
 */
import type { NodeId } from './config.js';

/** One pending read: who asked, with which context, the read index and acknowledgements so far. */
export interface ReadIndexStatus {
  from: NodeId;
  context: Uint8Array;
  index: number;
  acks: Map<NodeId, boolean>;
}

/** The queue of pending reads, in arrival order, indexed by context. */
export interface ReadOnly {
  pending: Map<string, ReadIndexStatus>;
  queue: string[];
}

/** An empty queue. */
export function createReadOnly(): ReadOnly {
  return { pending: new Map(), queue: [] };
}

const keyOf = (ctx: Uint8Array): string => Buffer.from(ctx).toString('hex');

/** Queues a read at `index`; returns false (ignored) when a request with the same context is pending. */
export function addReadRequest(ro: ReadOnly, index: number, from: NodeId, context: Uint8Array): boolean {
  const key = keyOf(context);
  if (ro.pending.has(key)) return false;
  ro.pending.set(key, { from, context, index, acks: new Map() });
  ro.queue.push(key);
  return true;
}

/** Records `id`'s acknowledgement of `context`; returns the acks so far, or undefined if unknown. */
export function recvReadAck(ro: ReadOnly, id: NodeId, context: Uint8Array): Map<NodeId, boolean> | undefined {
  const rs = ro.pending.get(keyOf(context));
  if (rs === undefined) return undefined;
  rs.acks.set(id, true);
  return rs.acks;
}

/** Dequeues and returns every request up to and including the one with `context`. */
export function advanceReadOnly(ro: ReadOnly, context: Uint8Array): ReadIndexStatus[] {
  const key = keyOf(context);
  const at = ro.queue.indexOf(key);
  if (at < 0) return [];
  const done = ro.queue.splice(0, at + 1);
  const out: ReadIndexStatus[] = [];
  for (const k of done) {
    const rs = ro.pending.get(k);
    ro.pending.delete(k);
    if (rs !== undefined) out.push(rs);
  }
  return out;
}

/** Context of the newest pending request, to attach to the next heartbeat. */
export function lastPendingContext(ro: ReadOnly): Uint8Array | undefined {
  const key = ro.queue[ro.queue.length - 1];
  return key === undefined ? undefined : ro.pending.get(key)?.context;
}
