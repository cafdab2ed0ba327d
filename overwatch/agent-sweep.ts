/**
 * The once-a-second sweep over registered agents: an agent silent for `stale_threshold` is marked stale, one
 * silent for `remove_after` is dropped and its backends handed to external validation alone. Silence is judged
 * on the monotonic clock, so a wall-clock step cannot stale every agent at once.
 */
import type { Logger } from 'pino';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { AgentRegistry } from './agent-registry.js';
import { type OverwatchMetrics, refreshAgentGauges } from './metrics.js';

/** Sweep period: stale detection is at most this late. */
export const AGENT_SWEEP_MS = 1000;

export interface AgentSweepOptions {
  agents: AgentRegistry;
  config: () => OverwatchConfig;
  metrics: OverwatchMetrics;
  log: Logger;
  /** An agent was removed after prolonged silence: its claims must stop counting. */
  onRemoved(id: string, reason: string): void;
  /** Something changed: decisions are due. */
  onChange(): void;
  /** Runs on every sweep, changed or not (cheap periodic work of the caller). */
  onTick?(): void;
}

/** Starts the sweep; the returned function stops it. */
export function startAgentSweep(o: AgentSweepOptions): () => void {
  const { agents, metrics, log } = o;
  const timer = setInterval(() => {
    o.onTick?.();
    const ow = o.config().cluster.overwatch;
    const r = agents.sweep(performance.now(), ow.staleThresholdMs, ow.removeAfterMs);
    if (r.staled.length === 0 && r.removed.length === 0) return;
    for (const id of r.staled)
      log.warn(
        { agent: id, threshold_ms: ow.staleThresholdMs },
        'agent stale: no report within the threshold',
      );
    for (const id of r.removed)
      log.warn({ agent: id, after_ms: ow.removeAfterMs }, 'agent removed after prolonged silence');
    metrics.agentStale.inc(r.staled.length);
    for (const id of r.removed) o.onRemoved(id, `silent for remove_after (${ow.removeAfterMs}ms)`);
    o.onChange();
    refreshAgentGauges(metrics, agents.list());
  }, AGENT_SWEEP_MS);
  return () => clearInterval(timer);
}
