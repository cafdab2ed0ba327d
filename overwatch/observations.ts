/**
 * Assembles what the decision engine sees (soft state, DESIGN.md section 4): for every backend, the agent's
 * view (claim, signals, liveness) and the external validation of each vantage point. Today there is one
 * vantage point, this node; gossip adds the others' views under their node names.
 */

import { parseStatusRanges } from '../internal/config/checks.js';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { CheckSpec, HealthTarget, TargetStatus } from '../internal/health/index.js';
import type { AgentRegistry } from './agent-registry.js';
import { backendKey } from './agent-registry.js';
import { type Backend, backendsOf, mergeAgentBackends } from './backends.js';
import type { AgentView, BackendView, VantageView } from './decide.js';
import type { FsmState } from './fsm.js';
import { checkSpecOf } from './health-targets.js';

/** Static backends plus the agent backends registered in the state machine (hard state, survives restarts). */
export function currentBackends(config: OverwatchConfig, s: FsmState): Backend[] {
  const announced = [...s.agents.values()].flatMap((a) =>
    a.backends.map((b) => ({
      agentId: a.id,
      region: a.region,
      service: b.service,
      address: b.address,
      port: b.port,
      weight: b.weight,
    })),
  );
  return mergeAgentBackends(config, backendsOf(config), announced);
}

/** Health targets for the overwatch's own validation of agent backends the configuration does not list. */
export function validationTargets(
  config: OverwatchConfig,
  backends: readonly Backend[],
  s: FsmState,
): HealthTarget[] {
  const out: HealthTarget[] = [];
  const intervalMs = config.cluster.overwatch.externalCheckIntervalMs;
  for (const b of backends) {
    if (b.agentId === undefined || !b.healthKey.startsWith('agent:')) continue;
    const reg = s.agents.get(b.agentId)?.backends.find((x) => backendKey(x) === backendKey(b));
    const check = reg?.check ?? { type: 'http', path: '/health', host: '', expectedStatus: '' };
    // The agent's check type, path and host, but against the address and port DNS hands out: a client's path.
    const spec: CheckSpec = {
      type: check.type === 'https' || check.type === 'tcp' ? check.type : 'http',
      intervalMs,
      timeoutMs: Math.min(5000, intervalMs),
      path: check.path || '/health',
      expectedStatus: parseStatusRanges(check.expectedStatus || '200-299') ?? [{ min: 200, max: 299 }],
      failureThreshold: config.cluster.overwatch.vetoThreshold,
      successThreshold: 2,
      ...(check.host === '' ? {} : { host: check.host }),
    };
    out.push({ key: b.healthKey, address: b.address, port: b.port, region: b.region, spec });
  }
  return out;
}

function vantageOf(node: string, s: TargetStatus | undefined): VantageView[] {
  if (s?.healthy === undefined) return [];
  return [
    {
      vantage: node,
      consecutiveFailures: s.consecutiveFailures,
      consecutiveSuccesses: s.consecutiveSuccesses,
      lastOk: s.healthy,
      lastError: s.lastError ?? '',
    },
  ];
}

export interface ObservationInputs {
  nodeName: string;
  config: OverwatchConfig;
  state: FsmState;
  registry: AgentRegistry;
  /** Region checks (static servers) and validator probes (agent backends), by health key. */
  health: (healthKey: string) => TargetStatus | undefined;
  /** Milliseconds since this node started: agents known to the log but not yet reconnected are "pending" this long. */
  uptimeMs: number;
}

export function backendViews(backends: readonly Backend[], inp: ObservationInputs): BackendView[] {
  const regions = new Map(inp.config.regions.map((r) => [r.name, r]));
  return backends.map((b) => {
    const region = regions.get(b.region);
    const successThreshold = region === undefined ? 2 : checkSpecOf(region).successThreshold;
    return {
      service: b.service,
      address: b.address,
      port: b.port,
      weight: b.weight,
      successThreshold,
      agent: b.agentId === undefined ? undefined : agentView(b, inp),
      external: vantageOf(inp.nodeName, inp.health(b.healthKey)),
    };
  });
}

function agentView(b: Backend, inp: ObservationInputs): AgentView {
  const id = b.agentId as string;
  const a = inp.registry.get(id);
  if (a === undefined) {
    // Registered in the log but not (yet) connected to this node, e.g. right after a restart.
    const pending = inp.uptimeMs < inp.config.cluster.overwatch.staleThresholdMs;
    return { id, state: pending ? 'pending' : 'stale', claimHealthy: undefined, claimError: '', signals: [] };
  }
  const claim = a.claims.get(backendKey(b));
  return {
    id,
    state: a.state,
    claimHealthy: claim?.healthy,
    claimError: claim?.error ?? '',
    signals: (a.report?.signals ?? []).map((s) => ({
      signal: s.signal,
      state: s.state,
      value: s.value,
      threshold: s.threshold,
    })),
  };
}
