/**
 * What the simulator's clients were told, and the checks that depend on it. A proposal is acknowledged when
 * the node that accepted it (in the same incarnation) applies it: that is when a real client gets its answer.
 * A ReadIndex request records the highest acknowledged index at the moment it is asked; its read point must
 * cover it (Raft thesis §6.4: a read that starts after a write completed observes that write).
 */
import type { ReadState } from '../../internal/raft/core/raft.js';
import type { Entry } from '../../internal/raft/storage.js';
import { type InvariantChecker, payloadOf, violation } from './invariants.js';

/** The node a request went to: its id and incarnation (a crash forgets every request in flight there). */
export interface Asker {
  id: string;
  inc: number;
}

export interface SimClients {
  /** `asker` accepted proposal `payload` into its log. */
  proposed(payload: string, asker: Asker): void;
  /** `asker` applied `e`; returns the index when this acknowledged a proposal, else undefined. */
  applied(asker: Asker, e: Entry): number | undefined;
  /** `asker` took ReadIndex request `ctx`. */
  reading(ctx: string, asker: Asker): void;
  /** `asker` got a read point; throws when it misses an acknowledged write. */
  readState(asker: Asker, rs: ReadState): void;
  /** Whether `payload` is still waiting for its acknowledgement from `asker`. */
  awaiting(payload: string, asker: Asker): boolean;
  /** The highest index acknowledged so far. */
  maxAcknowledged(): number;
  /** Read points received and checked. */
  readsAnswered(): number;
}

const dec = new TextDecoder();
const same = (a: Asker, b: Asker): boolean => a.id === b.id && a.inc === b.inc;

export function createSimClients(inv: InvariantChecker): SimClients {
  const accepted = new Map<string, Asker>();
  /** Reads in flight by context, with the index they must cover. */
  const reads = new Map<string, Asker & { floor: number }>();
  let maxAcked = 0;
  let answered = 0;
  return {
    proposed(payload, asker) {
      accepted.set(payload, { id: asker.id, inc: asker.inc });
    },
    applied(asker, e) {
      const payload = payloadOf(e);
      const acc = accepted.get(payload);
      if (acc === undefined || !same(acc, asker)) return undefined;
      accepted.delete(payload);
      inv.acknowledged(payload, e.index);
      maxAcked = Math.max(maxAcked, e.index);
      return e.index;
    },
    reading(ctx, asker) {
      reads.set(ctx, { id: asker.id, inc: asker.inc, floor: maxAcked });
    },
    readState(asker, rs) {
      const ctx = dec.decode(rs.context);
      const r = reads.get(ctx);
      if (r === undefined || !same(r, asker)) return;
      reads.delete(ctx);
      if (rs.index < r.floor)
        throw violation(
          'linearizable reads',
          `read ${ctx} asked at node ${asker.id} after index ${r.floor} was acknowledged got read index ${rs.index}`,
        );
      answered++;
    },
    awaiting(payload, asker) {
      const acc = accepted.get(payload);
      return acc !== undefined && same(acc, asker);
    },
    maxAcknowledged: () => maxAcked,
    readsAnswered: () => answered,
  };
}
