/** Reading agents and agent-fronted backends from a running overwatch's REST API. */
import { answerData, type RunningOpengslb } from './opengslb.js';
import { waitFor } from './wait.js';

/** One signal of `GET /api/v1/agents` (`signals.cpu` ...), null until reported. */
export interface SignalJson {
  value: number;
  threshold: number;
  state: 'ok' | 'warning' | 'bleed';
  trend: number;
  reason: string;
}

/** One entry of `GET /api/v1/agents`. */
export interface AgentJson {
  id: string;
  hostname: string;
  region: string;
  version: string;
  node_id: string;
  connected: boolean;
  state: 'active' | 'stale';
  last_seen: string;
  backends: Array<{
    service: string;
    address: string;
    port: number;
    weight: number;
    healthy: boolean | null;
  }>;
  signals: { cpu: SignalJson | null; memory: SignalJson | null; error_rate: SignalJson | null };
}

/** One entry of `GET /api/v1/backends`. */
export interface BackendJson {
  service: string;
  address: string;
  port: number;
  target: string;
  region: string;
  weight: number;
  effective_weight: number;
  status: 'healthy' | 'draining' | 'vetoed' | 'unhealthy' | 'stale' | 'unknown';
  reason: string;
  source: string;
  agent_id: string | null;
  last_change: string | null;
}

async function get<T>(run: RunningOpengslb, path: string, field: string): Promise<T> {
  const res = await run.api(path);
  if (res.status !== 200) throw new Error(`${path}: status ${res.status}`);
  return (res.body as Record<string, T>)[field] as T;
}

/** `GET /api/v1/agents`, asserting status 200. */
export function agentsOf(run: RunningOpengslb): Promise<AgentJson[]> {
  return get(run, '/api/v1/agents', 'agents');
}

/** `GET /api/v1/backends`, asserting status 200. */
export function backendsOf(run: RunningOpengslb): Promise<BackendJson[]> {
  return get(run, '/api/v1/backends', 'backends');
}

/** The agent with `id`, or undefined when the overwatch does not list it. */
export async function agentNamed(run: RunningOpengslb, id: string): Promise<AgentJson | undefined> {
  return (await agentsOf(run)).find((a) => a.id === id);
}

/** The backend at `address` (addresses are unique per test file), or undefined. */
export async function backendAt(run: RunningOpengslb, address: string): Promise<BackendJson | undefined> {
  return (await backendsOf(run)).find((b) => b.address === address);
}

/**
 * Waits for the sorted A records of `name` to equal `expected`; returns ms since `since` (performance.now()).
 * The last mismatch is in the timeout message.
 */
export async function waitAnswers(
  run: RunningOpengslb,
  name: string,
  expected: readonly string[],
  timeoutMs: number,
  since = performance.now(),
): Promise<number> {
  const want = [...expected].sort().join(',');
  await waitFor(
    `${name} A = ${want}`,
    async () => {
      const got = answerData(await run.udp(name, 'A'), 'A')
        .sort()
        .join(',');
      if (got !== want) throw new Error(`answers [${got}]`);
      return true;
    },
    timeoutMs,
  );
  return performance.now() - since;
}
