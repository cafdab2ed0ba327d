/** Builds the three signal sources an agent reads from its `agent.predictive` configuration. */
import type { AgentPredictiveConfig, HostSignalSourceConfig } from '../internal/config/agent-schema.js';
import { createCheckErrorRateSource, createPrometheusErrorRateSource } from './collect-error-rate.js';
import { createHostCpuSource, createHostMemorySource, type HostSourceOptions } from './collect-host.js';
import type { SignalName } from './metrics.js';
import { createFileSource, type SignalSource } from './signal-source.js';

/** The agent's sources, plus where each reads from (for the start-up log line). */
export interface AgentSignalSources {
  sources: Record<SignalName, SignalSource>;
  /** e.g. `{cpu: 'host (proc)', memory: 'file /tmp/mem', error_rate: 'prometheus http://...'}`. */
  describe: Record<SignalName, string>;
  /**
   * Feed of local check outcomes for the `health_checks` error rate; call it on every completed check. A
   * no-op when the error rate comes from Prometheus.
   */
  recordCheck(ok: boolean): void;
}

export interface SignalSourcesOptions {
  /** The error-rate window in ms from the current overwatch policy (read on every use). */
  errorRateWindowMs: () => number;
  /** Monotonic clock in ms; default `performance.now()`. */
  now?: () => number;
  /** Passed to the host sources (tests use fixtures). */
  host?: HostSourceOptions;
}

async function hostSource(
  config: HostSignalSourceConfig,
  create: (o: HostSourceOptions) => Promise<SignalSource & { reader: string }>,
  host: HostSourceOptions,
): Promise<{ source: SignalSource; describe: string }> {
  if (config.type === 'file')
    return { source: createFileSource(config.path), describe: `file ${config.path}` };
  const source = await create(host);
  return { source, describe: `host (${source.reader})` };
}

/**
 * Creates the sources. Rejects only if a host reader cannot start at all (neither /proc nor
 * systeminformation works); file and Prometheus problems surface later, per read.
 */
export async function createSignalSources(
  config: AgentPredictiveConfig,
  opts: SignalSourcesOptions,
): Promise<AgentSignalSources> {
  const host = opts.host ?? {};
  const [cpu, memory] = await Promise.all([
    hostSource(config.cpu.source, createHostCpuSource, host),
    hostSource(config.memory.source, createHostMemorySource, host),
  ]);
  const clock = opts.now === undefined ? {} : { now: opts.now };
  const er = config.errorRate.source;
  if (er.type === 'prometheus') {
    return {
      sources: {
        cpu: cpu.source,
        memory: memory.source,
        error_rate: createPrometheusErrorRateSource({
          url: er.url,
          metric: er.metric,
          errorSelector: er.errorSelector,
          timeoutMs: er.timeoutMs,
          windowMs: opts.errorRateWindowMs,
          ...clock,
        }),
      },
      describe: {
        cpu: cpu.describe,
        memory: memory.describe,
        error_rate: `prometheus ${er.url} ${er.metric}`,
      },
      recordCheck: () => {},
    };
  }
  const checks = createCheckErrorRateSource({ windowMs: opts.errorRateWindowMs, ...clock });
  return {
    sources: { cpu: cpu.source, memory: memory.source, error_rate: checks },
    describe: { cpu: cpu.describe, memory: memory.describe, error_rate: 'health_checks' },
    recordCheck: checks.record,
  };
}
