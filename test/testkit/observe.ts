/** Observing a running opengslb from the outside: REST health status and many DNS answers. */
import type { RunningOpengslb } from './opengslb.js';
import { answerData, rcodeOf } from './opengslb.js';
import { waitFor } from './wait.js';

/** One entry of `GET /api/v1/health/servers`. */
export interface ServerStatusJson {
  address: string;
  port: number;
  region: string;
  healthy: boolean | null;
  last_check: string | null;
  consecutive_failures: number;
  consecutive_successes: number;
  last_error: string | null;
  rtt_ms: number | null;
}

/** `GET /api/v1/health/servers`, asserting status 200. */
export async function serverStatuses(run: RunningOpengslb): Promise<ServerStatusJson[]> {
  const res = await run.api('/api/v1/health/servers');
  if (res.status !== 200) throw new Error(`/api/v1/health/servers: status ${res.status}`);
  return (res.body as { servers: ServerStatusJson[] }).servers;
}

/** Waits until every listed address has the given health verdict (addresses are unique per test file). */
export async function waitHealth(
  run: RunningOpengslb,
  expected: Record<string, boolean>,
  timeoutMs = 5000,
): Promise<void> {
  await waitFor(
    `health ${JSON.stringify(expected)}`,
    async () => {
      const byAddress = new Map((await serverStatuses(run)).map((s) => [s.address, s.healthy]));
      if (!Object.entries(expected).every(([a, h]) => byAddress.get(a) === h)) return undefined;
      // Health checks feed the decision engine; answers follow the decisions, so wait for those too.
      const res = await run.api('/api/v1/backends');
      const decided = (res.body as { backends: Array<{ address: string; status: string }> }).backends;
      const ok = Object.entries(expected).every(([a, h]) =>
        decided.filter((b) => b.address === a).every((b) => (b.status === 'healthy') === h),
      );
      return ok ? true : undefined;
    },
    timeoutMs,
  );
}

/** The first A record of each of `count` sequential UDP queries; throws on an answer without one. */
export async function firstAddresses(run: RunningOpengslb, name: string, count: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const r = await run.udp(name, 'A');
    const first = answerData(r, 'A')[0];
    if (first === undefined) throw new Error(`${name} A: query ${i} got rcode ${rcodeOf(r)} and no address`);
    out.push(first);
  }
  return out;
}

/** How often each value occurs. */
export function tally(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}
