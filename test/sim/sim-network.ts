/**
 * The simulated network: per-link latency with per-message jitter (reordering falls out of it: two messages on
 * one link swap when the jitter exceeds their spacing), loss, duplication, and partitions as a set of blocked
 * directed links, so full, asymmetric (one-way) and bridge partitions are the same mechanism.
 */
import type { SeededRand } from '../../internal/testkit/seeded-rand.js';

/** How lossy and slow links are; a profile may switch between a calm and a rough one. */
export interface LinkModel {
  /** Smallest one-way latency of any link (ms). Each link draws its base latency once, in [min, min + spread). */
  minDelayMs: number;
  /** Spread of per-link base latencies (ms). */
  spreadMs: number;
  /** Extra per-message delay, uniform in [0, jitterMs): the source of reordering. */
  jitterMs: number;
  /** Probability that a message is dropped. */
  lossRate: number;
  /** Probability that a delivered message is delivered a second time (with its own delay). */
  dupRate: number;
}

/** Partition shapes the simulator injects. */
export type PartitionKind = 'full' | 'asymmetric' | 'bridge';

/** The network between simulated nodes. */
export interface SimNetwork {
  /** Delays (ms) after which a message sent now from `from` to `to` arrives: [] = lost, two = duplicated. */
  route(from: string, to: string): number[];
  /** Whether `from` currently cannot reach `to`. */
  blocked(from: string, to: string): boolean;
  /** Replaces any partition by a new one of `kind` over `ids`; returns a description for the trace. */
  partition(kind: PartitionKind, ids: readonly string[]): string;
  /** Removes every partition. */
  heal(): void;
  /** Switches the link model (e.g. to a perfect one for the final convergence phase). */
  setModel(m: LinkModel): void;
}

/** Shuffles a copy of `xs` with `rand` (Fisher-Yates). */
export function shuffled<T>(xs: readonly T[], rand: SeededRand): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rand.int(i + 1);
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
}

/** Creates a network without partitions using `model`. */
export function createSimNetwork(rand: SeededRand, model: LinkModel): SimNetwork {
  let m = model;
  const base = new Map<string, number>();
  let cut = new Set<string>();
  const key = (from: string, to: string): string => `${from}>${to}`;

  function linkBase(from: string, to: string): number {
    const k = key(from, to);
    let b = base.get(k);
    if (b === undefined) {
      b = m.minDelayMs + rand.int(Math.max(1, m.spreadMs));
      base.set(k, b);
    }
    return b;
  }

  function block(from: readonly string[], to: readonly string[]): void {
    for (const a of from) for (const b of to) if (a !== b) cut.add(key(a, b));
  }

  /** Splits `ids` into two non-empty groups (ids.length >= 2). */
  function split(ids: readonly string[]): [string[], string[]] {
    const s = shuffled(ids, rand);
    const k = 1 + rand.int(s.length - 1);
    return [s.slice(0, k), s.slice(k)];
  }

  return {
    route(from: string, to: string): number[] {
      if (cut.has(key(from, to)) || rand.next() < m.lossRate) return [];
      const b = linkBase(from, to);
      const delay = (): number => b + rand.int(Math.max(1, m.jitterMs));
      return rand.next() < m.dupRate ? [delay(), delay()] : [delay()];
    },
    blocked: (from, to) => cut.has(key(from, to)),
    partition(kind: PartitionKind, ids: readonly string[]): string {
      cut = new Set();
      if (ids.length < 2) return `partition ${kind}: too few nodes`;
      if (kind === 'full') {
        const [a, b] = split(ids);
        block(a, b);
        block(b, a);
        return `partition full ${a.join(',')} | ${b.join(',')}`;
      }
      if (kind === 'asymmetric') {
        // One node loses one direction towards some others: e.g. a leader whose heartbeats go out but whose
        // acknowledgements never come back, the case check-quorum exists for.
        const [a, rest] = split(ids);
        const others = rest.length > 0 ? rest : [];
        if (rand.int(2) === 0) {
          block(a, others);
          return `partition one-way ${a.join(',')} -/-> ${others.join(',')}`;
        }
        block(others, a);
        return `partition one-way ${others.join(',')} -/-> ${a.join(',')}`;
      }
      // Bridge: the middle node reaches both sides, the sides do not reach each other.
      if (ids.length < 3) return `partition bridge: too few nodes`;
      const s = shuffled(ids, rand);
      const mid = s[0] as string;
      const [a, b] = split(s.slice(1));
      block(a, b);
      block(b, a);
      return `partition bridge ${a.join(',')} <-> ${mid} <-> ${b.join(',')}`;
    },
    heal(): void {
      cut = new Set();
    },
    setModel(next: LinkModel): void {
      m = next;
      base.clear();
    },
  };
}
