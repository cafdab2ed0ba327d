/**
 * The agent's own Prometheus families, served on `agent.metrics.address` when `agent.metrics.enabled`
 * (the wiring passes `registry` to `createMetricsServer`). Labels are bounded by the configuration: three
 * signals, and the configured backends.
 */
import { isIP } from 'node:net';
import { Counter, Gauge, type Registry } from 'prom-client';
import { createRegistry } from '../internal/metrics/registry.js';
import type { PredictiveState, SignalReading } from './predictor.js';

/** The predictive signals, as named in labels and reasons. */
export type SignalName = 'cpu' | 'memory' | 'error_rate';

/** Gauge value of a predictive state: 0 ok, 1 warning, 2 bleed (ordered, so `max()` is the worst). */
export const PREDICTIVE_STATE_VALUE: Readonly<Record<PredictiveState, number>> = {
  ok: 0,
  warning: 1,
  bleed: 2,
};

export interface AgentMetrics {
  /** The registry holding these families and Node's process metrics. */
  registry: Registry;
  /** 1 while a stream to an overwatch node is established. */
  connected: Gauge;
  reportsSent: Counter;
  /** Stream (re)connections after the first, whatever the cause. */
  reconnects: Counter;
  predictiveState: Gauge<'signal'>;
  cpuPercent: Gauge;
  memoryPercent: Gauge;
  errorRatePercent: Gauge;
  backendHealthy: Gauge<'service' | 'backend'>;
  /** Sets the value gauge and the state gauge of `signal` from a predictor reading. */
  observeReading(signal: SignalName, reading: SignalReading): void;
  /** Sets `opengslb_agent_backend_healthy{service, backend="address:port"}` to 1 or 0. */
  setBackendHealthy(service: string, address: string, port: number, healthy: boolean): void;
}

/** `10.0.1.10:80`, `[2001:db8::1]:80`: the `backend` label value. */
export function backendLabel(address: string, port: number): string {
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Creates the agent families on `registry` (default: a fresh one with Node's process metrics, which are
 * how the agent's own CPU and RSS budget is watched).
 */
export function createAgentMetrics(registry: Registry = createRegistry()): AgentMetrics {
  const registers = [registry];
  const connected = new Gauge({
    name: 'opengslb_agent_connected',
    help: '1 while the agent has a stream to an overwatch node, else 0.',
    registers,
  });
  const reportsSent = new Counter({
    name: 'opengslb_agent_reports_sent_total',
    help: 'Reports sent to the overwatch.',
    registers,
  });
  const reconnects = new Counter({
    name: 'opengslb_agent_reconnects_total',
    help: 'Stream reconnections to the overwatch after the first connection.',
    registers,
  });
  const predictiveState = new Gauge({
    name: 'opengslb_agent_predictive_state',
    help: 'Predictive state per signal: 0 ok, 1 warning, 2 bleed.',
    labelNames: ['signal'] as const,
    registers,
  });
  const cpuPercent = new Gauge({
    name: 'opengslb_agent_cpu_percent',
    help: 'Host CPU use in percent, as last reported.',
    registers,
  });
  const memoryPercent = new Gauge({
    name: 'opengslb_agent_memory_percent',
    help: 'Host memory in use in percent, as last reported.',
    registers,
  });
  const errorRatePercent = new Gauge({
    name: 'opengslb_agent_error_rate_percent',
    help: 'Error rate over the window in percent, as last reported.',
    registers,
  });
  const backendHealthy = new Gauge({
    name: 'opengslb_agent_backend_healthy',
    help: "1 when the agent's local check finds the backend healthy, else 0.",
    labelNames: ['service', 'backend'] as const,
    registers,
  });
  connected.set(0);
  const valueGauge: Record<SignalName, Gauge> = {
    cpu: cpuPercent,
    memory: memoryPercent,
    error_rate: errorRatePercent,
  };
  return {
    registry,
    connected,
    reportsSent,
    reconnects,
    predictiveState,
    cpuPercent,
    memoryPercent,
    errorRatePercent,
    backendHealthy,
    observeReading: (signal, reading) => {
      valueGauge[signal].set(reading.value);
      predictiveState.set({ signal }, PREDICTIVE_STATE_VALUE[reading.state]);
    },
    setBackendHealthy: (service, address, port, healthy) => {
      backendHealthy.set({ service, backend: backendLabel(address, port) }, healthy ? 1 : 0);
    },
  };
}
