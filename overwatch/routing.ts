/**
 * Routing algorithms: which of a domain's eligible backends go into one answer. Pure functions; the caller
 * owns the round-robin cursor and the random source, so tests can drive them exactly.
 *
 * Candidates arrive in failover order and already filtered to healthy backends of the queried address family.
 * A weight of 0 means "never chosen" for every algorithm: it is how an operator drains a server by config.
 */

/** Uniform integer in [0, n). Production passes a crypto-seeded source; tests a seeded PRNG. */
export interface Rand {
  int(n: number): number;
}

export interface Weighted {
  weight: number;
  /** Decided share of the configured weight, 0..1 (undefined = 1): below 1 the backend is bleeding. */
  share?: number;
}

/**
 * Up to `max` candidates starting at `cursor` (mod length), so successive queries rotate through the set. When
 * effective weights differ (a backend is bleeding), the first record follows the weights instead: a
 * low-discrepancy sequence driven by the cursor (golden-ratio steps) picks each backend in proportion to its
 * weight, deterministically and evenly over successive queries.
 */
export function pickRoundRobin<T extends Weighted>(
  candidates: readonly T[],
  cursor: number,
  max: number,
): T[] {
  const eligible = candidates.filter((c) => c.weight > 0);
  if (eligible.some((c) => c.weight !== eligible[0]?.weight)) {
    const u = (cursor * 0.6180339887498949) % 1;
    return pickWeighted(eligible, { int: (n) => Math.floor(u * n) }, max);
  }
  const n = Math.min(max, eligible.length);
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(eligible[(cursor + i) % eligible.length] as T);
  return out;
}

/**
 * Up to `max` distinct candidates drawn without replacement, each draw proportional to weight, so the first
 * address of an answer (the one most clients use) is chosen with probability weight / total.
 */
export function pickWeighted<T extends Weighted>(candidates: readonly T[], rand: Rand, max: number): T[] {
  const pool = candidates.filter((c) => c.weight > 0);
  const out: T[] = [];
  // Weights are integers 0..1000 scaled by fractions elsewhere; work in integer thousandths for exact draws.
  const units = (c: T): number => Math.max(1, Math.round(c.weight * 1000));
  while (out.length < max && pool.length > 0) {
    const total = pool.reduce((sum, c) => sum + units(c), 0);
    let r = rand.int(total);
    let i = 0;
    for (; i < pool.length - 1; i++) {
      r -= units(pool[i] as T);
      if (r < 0) break;
    }
    out.push(pool[i] as T);
    pool.splice(i, 1);
  }
  return out;
}

/**
 * The first `max` candidates in configured order: the primary while it is healthy, then the next. A bleeding
 * backend (share < 1) hands over to the next one at full share; it is used again only when none is left.
 */
export function pickFailover<T extends Weighted>(candidates: readonly T[], max: number): T[] {
  const eligible = candidates.filter((c) => c.weight > 0);
  const full = eligible.filter((c) => (c.share ?? 1) >= 0.999);
  const bleeding = eligible.filter((c) => (c.share ?? 1) < 0.999);
  return [...full, ...bleeding].slice(0, max);
}
