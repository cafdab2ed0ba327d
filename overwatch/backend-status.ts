/**
 * The one rule that decides a backend's status until the decision engine (issue #4) replaces it: an
 * agent-fronted backend follows its agent's claim while the agent reports; a static backend follows the
 * overwatch's own health check. Everything that shows or uses a status (answers, REST, gRPC, Explain) asks here.
 */
import type { TargetStatus } from '../internal/health/index.js';
import { type AgentRecord, backendKey } from './agent-registry.js';
import type { Backend } from './backends.js';

export type BackendStatusName = 'healthy' | 'draining' | 'vetoed' | 'unhealthy' | 'stale' | 'unknown';

export interface BackendVerdict {
  status: BackendStatusName;
  /** Human-readable why, shown by REST, gRPC and Explain. */
  reason: string;
  /** What decided: `external` (our health check) or `agent` / `stale` (the agent's claim or its silence). */
  source: 'external' | 'agent' | 'stale';
  lastChange: Date | undefined;
}

export interface StatusInputs {
  health: (healthKey: string) => TargetStatus | undefined;
  agent: (id: string) => AgentRecord | undefined;
}

/** The status of `b` now. */
export function backendVerdict(b: Backend, inputs: StatusInputs): BackendVerdict {
  if (b.agentId !== undefined) {
    const a = inputs.agent(b.agentId);
    if (a === undefined)
      return {
        status: 'unknown',
        reason: `agent ${b.agentId} is gone`,
        source: 'agent',
        lastChange: undefined,
      };
    if (a.state === 'stale') {
      return {
        status: 'stale',
        reason: `agent ${a.id} silent since ${a.lastSeenWall.toISOString()}`,
        source: 'stale',
        lastChange: a.lastSeenWall,
      };
    }
    const claim = a.claims.get(backendKey(b));
    if (claim === undefined) {
      return {
        status: 'unknown',
        reason: `agent ${a.id} has not reported on it yet`,
        source: 'agent',
        lastChange: undefined,
      };
    }
    return claim.healthy
      ? {
          status: 'healthy',
          reason: `agent ${a.id} reports healthy`,
          source: 'agent',
          lastChange: a.lastSeenWall,
        }
      : {
          status: 'unhealthy',
          reason: `agent ${a.id} reports unhealthy${claim.error === '' ? '' : `: ${claim.error}`}`,
          source: 'agent',
          lastChange: a.lastSeenWall,
        };
  }
  const s = inputs.health(b.healthKey);
  if (s?.healthy === undefined)
    return { status: 'unknown', reason: 'not checked yet', source: 'external', lastChange: undefined };
  if (s.healthy) {
    const rtt = s.rttMs === undefined ? '' : ` (rtt ${s.rttMs.toFixed(1)}ms)`;
    return {
      status: 'healthy',
      reason: `health check passing${rtt}`,
      source: 'external',
      lastChange: s.lastCheck,
    };
  }
  return {
    status: 'unhealthy',
    reason: `health check failing: ${s.lastError ?? 'unknown error'} (${s.consecutiveFailures} consecutive)`,
    source: 'external',
    lastChange: s.lastCheck,
  };
}
