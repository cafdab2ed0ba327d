/**
 * Agents known to this overwatch node and what they last said (DESIGN.md section 4, soft state). No clock and
 * no sockets inside: every call that depends on time takes `nowMs` (monotonic) and `wall` (for display), so the
 * stale/remove rules are testable with a manual clock.
 *
 * Sessions: each Hello starts a new session number for that agent id; messages and disconnects of an older
 * session (a stream the agent already replaced) are ignored, so a reconnect race cannot mark a live agent stale.
 */

import { backendKey } from './backends.js';

/** Re-exported: callers of the registry key claims with it. */
export { backendKey };

export type PredictiveState = 'ok' | 'warning' | 'bleed';
export type SignalName = 'cpu' | 'memory' | 'error_rate';

export interface SignalReading {
  signal: SignalName;
  value: number;
  threshold: number;
  trendPerMinute: number;
  state: PredictiveState;
  reason: string;
}

export interface AgentBackend {
  service: string;
  address: string;
  port: number;
  weight: number;
}

/** The agent's own view of one backend (its local check). */
export interface AgentClaim {
  healthy: boolean;
  latencyMs: number;
  error: string;
}

export interface AgentReport {
  sequence: number;
  cpuPercent: number;
  memoryPercent: number;
  errorRatePercent: number;
  signals: SignalReading[];
}

export interface AgentRecord {
  id: string;
  hostname: string;
  region: string;
  version: string;
  /** Overwatch node holding the stream. */
  nodeId: string;
  session: number;
  connected: boolean;
  /** `active` while reports arrive within the stale threshold. */
  state: 'active' | 'stale';
  lastSeenMs: number;
  lastSeenWall: Date;
  backends: AgentBackend[];
  /** Keyed by `backendKey`. */
  claims: Map<string, AgentClaim>;
  report: AgentReport | undefined;
}

export interface HelloInfo {
  id: string;
  hostname: string;
  region: string;
  version: string;
  nodeId: string;
  backends: AgentBackend[];
}

export interface SweepResult {
  staled: string[];
  removed: string[];
}

export interface AgentRegistry {
  /** Registers (or re-registers) an agent; returns its new session and whether a live session was replaced. */
  hello(h: HelloInfo, nowMs: number, wall: Date): { session: number; replaced: boolean };
  /** Records a report; false when the session is unknown or superseded. */
  report(
    id: string,
    session: number,
    r: AgentReport,
    claims: Map<string, AgentClaim>,
    nowMs: number,
    wall: Date,
  ): boolean;
  /** Clean shutdown: forgets the agent at once. True when it was removed. */
  goodbye(id: string, session: number): boolean;
  /** The stream ended without Goodbye: the agent stays until the sweep ages it out. */
  disconnect(id: string, session: number): void;
  /** Marks agents silent for `staleMs` as stale and drops those silent for `removeMs`. */
  sweep(nowMs: number, staleMs: number, removeMs: number): SweepResult;
  get(id: string): AgentRecord | undefined;
  list(): AgentRecord[];
}

export function createAgentRegistry(): AgentRegistry {
  const agents = new Map<string, AgentRecord>();
  let sessions = 0;
  const current = (id: string, session: number): AgentRecord | undefined => {
    const a = agents.get(id);
    return a !== undefined && a.session === session ? a : undefined;
  };
  return {
    hello(h, nowMs, wall) {
      const before = agents.get(h.id);
      sessions += 1;
      agents.set(h.id, {
        id: h.id,
        hostname: h.hostname,
        region: h.region,
        version: h.version,
        nodeId: h.nodeId,
        session: sessions,
        connected: true,
        state: 'active',
        lastSeenMs: nowMs,
        lastSeenWall: wall,
        backends: h.backends,
        // Claims of backends the agent still announces survive a reconnect; the next report refreshes them.
        claims: new Map(
          [...(before?.claims ?? new Map<string, AgentClaim>())].filter(([k]) =>
            h.backends.some((b) => backendKey(b) === k),
          ),
        ),
        report: before?.report,
      });
      return { session: sessions, replaced: before?.connected === true };
    },
    report(id, session, r, claims, nowMs, wall) {
      const a = current(id, session);
      if (a === undefined) return false;
      a.report = r;
      for (const [k, c] of claims) if (a.backends.some((b) => backendKey(b) === k)) a.claims.set(k, c);
      a.lastSeenMs = nowMs;
      a.lastSeenWall = wall;
      a.state = 'active';
      return true;
    },
    goodbye(id, session) {
      if (current(id, session) === undefined) return false;
      agents.delete(id);
      return true;
    },
    disconnect(id, session) {
      const a = current(id, session);
      if (a !== undefined) a.connected = false;
    },
    sweep(nowMs, staleMs, removeMs) {
      const result: SweepResult = { staled: [], removed: [] };
      for (const a of [...agents.values()]) {
        const silentMs = nowMs - a.lastSeenMs;
        if (silentMs >= removeMs) {
          agents.delete(a.id);
          result.removed.push(a.id);
        } else if (silentMs >= staleMs && a.state === 'active') {
          a.state = 'stale';
          result.staled.push(a.id);
        }
      }
      return result;
    },
    get: (id) => agents.get(id),
    list: () => [...agents.values()].sort((x, y) => x.id.localeCompare(y.id)),
  };
}
