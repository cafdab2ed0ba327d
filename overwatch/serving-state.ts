/**
 * What the node currently serves: configuration, the merged backend list (static + agent-announced), each
 * backend's verdict and the answer table derived from them. Rebuilt on every change that can alter an answer
 * (health transition, agent report that flips a claim, agent stale/removed, reload); queries only read.
 */
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { HealthMonitor } from '../internal/health/index.js';
import type { AgentRegistry } from './agent-registry.js';
import { type AnswerTable, buildAnswerTable } from './answer-table.js';
import { type BackendVerdict, backendVerdict } from './backend-status.js';
import { type Backend, backendsOf, mergeAgentBackends } from './backends.js';

export interface ServingState {
  config(): OverwatchConfig;
  table(): AnswerTable;
  backends(): readonly Backend[];
  verdict(b: Backend): BackendVerdict;
  /** Recomputes backends and the answer table; returns true when the set of serving backends changed. */
  rebuild(): boolean;
  /** Adopts a new configuration (SOA serial bumps) and rebuilds. */
  setConfig(next: OverwatchConfig): void;
}

export function createServingState(opts: {
  config: OverwatchConfig;
  monitor: HealthMonitor;
  registry: AgentRegistry;
  /** Initial SOA serial (e.g. Unix seconds at start). */
  serial: number;
}): ServingState {
  let config = opts.config;
  let serial = opts.serial;
  let backends: Backend[] = [];
  let table: AnswerTable | undefined;
  let servingKeys = '';
  const inputs = { health: (k: string) => opts.monitor.get(k), agent: (id: string) => opts.registry.get(id) };
  const verdict = (b: Backend) => backendVerdict(b, inputs);

  function rebuild(): boolean {
    const announced = opts.registry
      .list()
      .flatMap((a) => a.backends.map((b) => ({ ...b, agentId: a.id, region: a.region })));
    backends = mergeAgentBackends(config, backendsOf(config), announced);
    table = buildAnswerTable(config, backends, (b) => verdict(b).status === 'healthy', serial, table);
    const keys = [...table.domains.values()]
      .flatMap((d) => d.serving.map((b) => `${d.name}|${b.address}`))
      .join(',');
    const changed = keys !== servingKeys;
    servingKeys = keys;
    return changed;
  }
  rebuild();

  return {
    config: () => config,
    table: () => table as AnswerTable,
    backends: () => backends,
    verdict,
    rebuild,
    setConfig(next) {
      config = next;
      serial += 1;
      rebuild();
    },
  };
}
