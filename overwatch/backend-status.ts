/** A backend's decided status as everything that shows or uses it (answers, REST, gRPC, Explain) sees it. */

export type BackendStatusName = 'healthy' | 'draining' | 'vetoed' | 'unhealthy' | 'stale' | 'unknown';

export interface BackendVerdict {
  status: BackendStatusName;
  /** Human-readable why, shown by REST, gRPC and Explain. */
  reason: string;
  /** What decided: override, veto, agent, predictive, external (our checks), stale. */
  source: string;
  lastChange: Date | undefined;
  /** Share of the configured weight in answers, 0..1. */
  weightFraction: number;
}
