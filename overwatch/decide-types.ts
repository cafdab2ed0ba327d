/** What the decision engine reads: per-backend views of agents and vantage points, and its policy. */

export type VetoMode = 'strict' | 'balanced' | 'permissive';
/** An agent's predictive state for one signal. */
export type SignalState = 'ok' | 'warning' | 'bleed';

/** One vantage point's view of a backend (an overwatch node's probes). */
export interface VantageView {
  vantage: string;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastOk: boolean;
  lastError: string;
}

/** What the engine knows of the agent fronting a backend. */
export interface AgentView {
  id: string;
  /**
   * `active` while reports arrive; `stale` after stale_threshold; `pending` when the log knows the agent but it
   * has not reconnected since this node started (its last decision stands until stale_threshold).
   */
  state: 'active' | 'stale' | 'pending';
  /** The agent's local check verdict; undefined until its first report on the backend. */
  claimHealthy: boolean | undefined;
  claimError: string;
  signals: ReadonlyArray<{ signal: string; state: SignalState; value: number; threshold: number }>;
}

/** One backend's observations (soft state), the engine's input. */
export interface BackendView {
  service: string;
  address: string;
  port: number;
  /** Configured (or announced) weight. */
  weight: number;
  /** Consecutive passing rounds needed to leave a veto (the check spec's success_threshold). */
  successThreshold: number;
  agent: AgentView | undefined;
  /** External validation per vantage point (those that probed in the last round); empty until the first probe. */
  external: readonly VantageView[];
}

/** The configuration the engine reads (cluster.overwatch and cluster.predictive_health). */
export interface DecideConfig {
  vetoMode: VetoMode;
  /** Consecutive failing rounds from a vantage point before it counts against an agent's healthy claim. */
  vetoThreshold: number;
  /** Share of a service's configured weight that bleeding may not go below, 0..1. */
  panicThreshold: number;
  predictive: {
    enabled: boolean;
    /** Bleed ramp duration per signal, ms. */
    bleedDurationMs: Readonly<Record<string, number>>;
    /** Speed of a `warning` bleed relative to `bleed`; 0 means warnings do not bleed. */
    warningRate: number;
  };
}
