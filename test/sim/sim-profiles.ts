/**
 * Fault profiles of the cluster simulator: which faults are injected, how often, and how the network and the
 * disk behave. Times are virtual milliseconds; one Raft tick is `tickMs`.
 */
import type { LinkModel, PartitionKind } from './sim-network.js';

/** Fault kinds a profile can enable, with relative weights. */
export interface FaultWeights {
  partition?: number;
  crash?: number;
  membership?: number;
  transfer?: number;
}

/** One simulator profile. */
export interface SimProfile {
  name: string;
  /** The network while faults are injected; the final phase uses a loss-free copy of it. */
  link: LinkModel;
  /** Relative weights of the faults drawn at each fault event; none = no faults. */
  faults: FaultWeights;
  /** Mean spacing of fault events (ms); each is uniform in [0.5, 1.5) x this. */
  faultEveryMs: number;
  /** Partition shapes to draw from. */
  partitions: readonly PartitionKind[];
  /** How long a partition lasts before healing (ms): uniform in [min, max). */
  partitionMs: readonly [number, number];
  /** How long a crashed node stays down (ms): uniform in [min, max). */
  downMs: readonly [number, number];
  /** Time from a Ready's writes to its sync completing (ms): uniform in [min, max). A crash in between loses them. */
  syncMs: readonly [number, number];
  /** Client proposals: spacing uniform in [min, max) ms. */
  proposeEveryMs: readonly [number, number];
}

const calmLink: LinkModel = { minDelayMs: 1, spreadMs: 4, jitterMs: 2, lossRate: 0, dupRate: 0 };
const roughLink: LinkModel = { minDelayMs: 1, spreadMs: 10, jitterMs: 40, lossRate: 0.1, dupRate: 0.05 };
const mildLink: LinkModel = { minDelayMs: 1, spreadMs: 6, jitterMs: 10, lossRate: 0.02, dupRate: 0.01 };

const base = {
  faultEveryMs: 150,
  partitions: ['full', 'asymmetric', 'bridge'],
  partitionMs: [50, 600],
  downMs: [5, 400],
  syncMs: [1, 5],
  proposeEveryMs: [2, 30],
} as const satisfies Partial<SimProfile>;

/** Every profile by name; the test runs each for 3, 5 and 7 nodes. */
export const SIM_PROFILES: readonly SimProfile[] = [
  { ...base, name: 'calm', link: calmLink, faults: {} },
  { ...base, name: 'lossy', link: roughLink, faults: {} },
  { ...base, name: 'partitions', link: mildLink, faults: { partition: 1 } },
  // Slow syncs make a crash likely to hit a Ready whose writes are not durable yet.
  { ...base, name: 'crashes', link: mildLink, faults: { crash: 1 }, syncMs: [1, 25], faultEveryMs: 120 },
  { ...base, name: 'membership', link: mildLink, faults: { membership: 4, crash: 1 }, faultEveryMs: 60 },
  {
    ...base,
    name: 'chaos',
    link: roughLink,
    faults: { partition: 2, crash: 2, membership: 2, transfer: 1 },
    syncMs: [1, 20],
    faultEveryMs: 80,
  },
];

/** The profile called `name`; throws naming the known ones. */
export function simProfile(name: string): SimProfile {
  const p = SIM_PROFILES.find((x) => x.name === name);
  if (p === undefined)
    throw new Error(
      `unknown SIM_PROFILE ${JSON.stringify(name)}; known: ${SIM_PROFILES.map((x) => x.name).join(', ')}`,
    );
  return p;
}
