/**
 * The leader's decision loop (standalone: this node): keeps the external validation of agent backends running,
 * assembles observations, runs the pure `decide` and proposes its commands through the decision log; registers
 * and deregisters agents in the state machine. Passes never overlap; a trigger during a pass runs one more.
 */
import { create } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import type { Hello } from '../internal/gen/opengslb/v1/agent_pb.js';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { RegisterAgentSchema } from '../internal/gen/opengslb/v1/fsm_pb.js';
import type { CheckResult, HealthMonitor, HealthTarget } from '../internal/health/index.js';
import { createHealthMonitor } from '../internal/health/index.js';
import type { AgentRegistry } from './agent-registry.js';
import { type DecideConfig, decide } from './decide.js';
import type { DecisionLog } from './decision-log.js';
import { command, type EventRecord, type Fsm } from './fsm.js';
import { backendViews, currentBackends, validationTargets } from './observations.js';

export interface DecisionLoop {
  /** Schedules a decide pass (coalesced). */
  trigger(): void;
  /** Runs a decide pass over the current state and resolves when it (and its commands) are applied. */
  settle(): Promise<void>;
  propose(cmds: Command[]): Promise<EventRecord[]>;
  /** An agent's Hello was accepted: register it in the state machine if its announcement changed. */
  agentAccepted(hello: Hello, tokenFingerprint: string): void;
  /** An agent said Goodbye or was removed after remove_after. */
  agentGone(agentId: string, reason: string): void;
  /** Re-reads configuration and registrations into the validator's targets. */
  refreshTargets(): void;
  validation(): HealthMonitor;
  start(): void;
  stop(): Promise<void>;
}

export function decideConfigOf(c: OverwatchConfig): DecideConfig {
  const p = c.cluster.predictiveHealth;
  return {
    vetoMode: c.cluster.overwatch.vetoMode,
    vetoThreshold: c.cluster.overwatch.vetoThreshold,
    panicThreshold: c.cluster.overwatch.panicThreshold,
    predictive: {
      enabled: p.enabled,
      bleedDurationMs: {
        cpu: p.cpu.bleedDurationMs,
        memory: p.memory.bleedDurationMs,
        error_rate: p.errorRate.bleedDurationMs,
      },
      warningRate: p.warningRate,
    },
  };
}

export function createDecisionLoop(opts: {
  nodeName: string;
  config: () => OverwatchConfig;
  fsm: Fsm;
  dlog: DecisionLog;
  registry: AgentRegistry;
  regionChecks: HealthMonitor;
  log: Logger;
  startedMs: number;
  onValidation?: (t: HealthTarget, r: CheckResult) => void;
  /** Whether this node may decide (cluster mode: only the leader). Default: always. */
  active?: () => boolean;
}): DecisionLoop {
  const { fsm, dlog, log } = opts;
  const targets = () =>
    validationTargets(opts.config(), currentBackends(opts.config(), fsm.state()), fsm.state());
  const validator = createHealthMonitor({
    targets: targets(),
    log: log.child({ component: 'validation' }),
    onChange: () => loop.trigger(),
    onResult: (t, r) => {
      opts.onValidation?.(t, r);
      // A growing failing streak can reach veto_threshold without a health transition.
      if (!r.ok) loop.trigger();
    },
  });
  let running = false;
  let again = false;
  let stopped = false;
  let tick: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  async function pass(): Promise<void> {
    do {
      again = false;
      if (opts.active !== undefined && !opts.active()) return;
      const config = opts.config();
      const s = fsm.state();
      const backends = currentBackends(config, s);
      const views = backendViews(backends, {
        nodeName: opts.nodeName,
        config,
        state: s,
        registry: opts.registry,
        health: (k) => opts.regionChecks.get(k) ?? validator.get(k),
        uptimeMs: performance.now() - opts.startedMs,
      });
      const cmds = decide(decideConfigOf(config), views, s, Date.now());
      // Agents the log knows that never came back within remove_after of this node starting are removed.
      if (performance.now() - opts.startedMs > config.cluster.overwatch.removeAfterMs) {
        for (const a of s.agents.values()) {
          if (opts.registry.get(a.id) === undefined) {
            cmds.push(
              command(Date.now(), {
                case: 'deregisterAgent',
                value: { agentId: a.id, reason: 'not seen since start-up within remove_after' },
              }),
            );
          }
        }
      }
      if (cmds.length > 0) await dlog.propose(cmds);
    } while (again && !stopped);
  }

  const loop: DecisionLoop = {
    trigger() {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = true;
      current = pass()
        .catch((e: unknown) => log.error({ err: e }, 'decision pass failed'))
        .finally(() => {
          running = false;
        });
    },
    async settle() {
      if (running) again = true;
      else loop.trigger();
      while (running) await current;
    },
    propose: (cmds) => dlog.propose(cmds),
    agentAccepted(hello, tokenFingerprint) {
      const existing = fsm.state().agents.get(hello.agentId);
      const announced = hello.backends
        .map(
          (b) =>
            `${b.ref?.service}|${b.ref?.address}:${b.ref?.port}/${b.weight}/${b.healthCheck?.type}${b.healthCheck?.path}`,
        )
        .join(',');
      const known = existing?.backends
        .map((b) => `${b.service}|${b.address}:${b.port}/${b.weight}/${b.check.type}${b.check.path}`)
        .join(',');
      if (
        existing !== undefined &&
        existing.region === hello.region &&
        known === announced &&
        existing.tokenFingerprint === tokenFingerprint
      ) {
        loop.trigger();
        return;
      }
      const reg = create(RegisterAgentSchema, {
        agentId: hello.agentId,
        region: hello.region,
        backends: hello.backends,
        tokenFingerprint,
      });
      dlog
        .propose([command(Date.now(), { case: 'registerAgent', value: reg })])
        .then(() => {
          loop.refreshTargets();
          loop.trigger();
        })
        .catch((e: unknown) => log.error({ err: e, agent: hello.agentId }, 'registering agent failed'));
    },
    agentGone(agentId, reason) {
      if (!fsm.state().agents.has(agentId)) return;
      dlog
        .propose([command(Date.now(), { case: 'deregisterAgent', value: { agentId, reason } })])
        .then(() => {
          loop.refreshTargets();
          loop.trigger();
        })
        .catch((e: unknown) => log.error({ err: e, agent: agentId }, 'deregistering agent failed'));
    },
    refreshTargets() {
      validator.update(targets());
    },
    validation: () => validator,
    start() {
      validator.start();
      // Ramps and override expiry move with time, not only with observations.
      tick = setInterval(() => loop.trigger(), 1000);
      loop.trigger();
    },
    async stop() {
      stopped = true;
      if (tick !== undefined) clearInterval(tick);
      await current;
      await validator.stop();
    },
  };
  return loop;
}
