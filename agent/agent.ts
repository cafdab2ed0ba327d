/**
 * The agent runtime: local health checks of its backends, the three signal sources and their predictors,
 * a report every `report_interval`, and the stream to the overwatch. The shell around the pure parts: it
 * owns the timers.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { AgentConfig } from '../internal/config/agent-schema.js';
import { parseHostPort, parseStatusRanges } from '../internal/config/checks.js';
import { AgentService } from '../internal/gen/opengslb/v1/agent_pb.js';
import type { PredictivePolicy } from '../internal/gen/opengslb/v1/types_pb.js';
import { createClient, defaultClientChannelOptions } from '../internal/grpc/client.js';
import type { ChannelSetup } from '../internal/grpc/credentials.js';
import { createHealthMonitor, type HealthTarget } from '../internal/health/index.js';
import { createMetricsServer } from '../internal/metrics/registry.js';
import { createAgentMetrics, type SignalName } from './metrics.js';
import { evaluate, initialSignalState, type SignalReading, type SignalState } from './predictor.js';
import { type AgentPolicy, buildReport, type CheckObservation, defaultAgentPolicy } from './report.js';
import { createSignalSources } from './sources-from-config.js';
import { type AgentStream, createStreamClient } from './stream-client.js';

export interface AgentOptions {
  config: AgentConfig;
  agentId: string;
  hostname: string;
  token: string;
  channel: ChannelSetup;
  log: Logger;
  version: string;
}

export interface RunningAgent {
  /** Says Goodbye (the overwatch deregisters at once), stops checks and timers. */
  stop(): Promise<void>;
}

const SIGNALS: SignalName[] = ['cpu', 'memory', 'error_rate'];

function msOf(d: { seconds: bigint; nanos: number } | undefined, fallback: number): number {
  return d === undefined ? fallback : Number(d.seconds) * 1000 + Math.round(d.nanos / 1e6);
}

/** The overwatch's policy in the predictor's terms; CPU and memory share the error-rate window. */
export function agentPolicyFrom(p: PredictivePolicy, fallback: AgentPolicy): AgentPolicy {
  const horizonMs = msOf(p.horizon, fallback.cpu.horizonMs);
  const windowMs = Math.max(1000, msOf(p.errorRate?.window, fallback.error_rate.windowMs));
  const one = (t: number | undefined, f: number) => ({ threshold: t ?? f, horizonMs, windowMs });
  return {
    enabled: p.enabled,
    cpu: one(p.cpu?.threshold, fallback.cpu.threshold),
    memory: one(p.memory?.threshold, fallback.memory.threshold),
    error_rate: one(p.errorRate?.threshold, fallback.error_rate.threshold),
  };
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { config, log } = opts;
  const a = config.agent;
  const metrics = createAgentMetrics();
  let policy = defaultAgentPolicy();
  const sources = await createSignalSources(a.predictive, {
    errorRateWindowMs: () => policy.error_rate.windowMs,
  });
  log.info({ agent: opts.agentId, sources: sources.describe, backends: a.backends.length }, 'agent starting');

  const targets: HealthTarget[] = a.backends.map((b) => {
    const hc = b.healthCheck;
    const spec = {
      type: hc.type,
      intervalMs: hc.intervalMs,
      timeoutMs: hc.timeoutMs,
      path: hc.path,
      expectedStatus: parseStatusRanges(hc.expectedStatus) ?? [{ min: 200, max: 299 }],
      failureThreshold: hc.failureThreshold,
      successThreshold: hc.successThreshold,
      ...(hc.host === '' ? {} : { host: hc.host }),
    };
    return {
      key: `${b.service}|${b.address}:${b.port}`,
      // The local check may target an admin port or sidecar; DNS still hands out the backend's own address.
      address: hc.address === '' ? b.address : hc.address,
      port: hc.port === 0 ? b.port : hc.port,
      region: a.region,
      spec,
    };
  });
  const monitor = createHealthMonitor({
    targets,
    log: log.child({ component: 'local-checks' }),
    onResult: (_t, r) => sources.recordCheck(r.ok),
  });

  const stream = createStreamClient({
    addresses: a.overwatch.addresses,
    log: log.child({ component: 'stream' }),
    random: () => randomInt(1_000_000) / 1_000_000,
    hello: () => ({
      case: 'hello',
      value: {
        agentId: opts.agentId,
        hostname: opts.hostname,
        region: a.region,
        version: opts.version,
        backends: a.backends.map((b) => ({
          ref: { service: b.service, address: b.address, port: b.port },
          weight: b.weight,
          healthCheck: {
            type: b.healthCheck.type,
            path: b.healthCheck.path,
            host: b.healthCheck.host,
            interval: {
              seconds: BigInt(Math.floor(b.healthCheck.intervalMs / 1000)),
              nanos: (b.healthCheck.intervalMs % 1000) * 1e6,
            },
            timeout: {
              seconds: BigInt(Math.floor(b.healthCheck.timeoutMs / 1000)),
              nanos: (b.healthCheck.timeoutMs % 1000) * 1e6,
            },
            failureThreshold: b.healthCheck.failureThreshold,
            successThreshold: b.healthCheck.successThreshold,
            address: b.healthCheck.address,
            port: b.healthCheck.port,
            expectedStatus: b.healthCheck.expectedStatus,
          },
        })),
      },
    }),
    open: (address): AgentStream => {
      const client = createClient(AgentService, address, opts.channel.credentials, {
        ...defaultClientChannelOptions(),
        ...opts.channel.options,
        // Our own backoff decides when to retry; the channel should not wait minutes on its own.
        'grpc.initial_reconnect_backoff_ms': 500,
        'grpc.max_reconnect_backoff_ms': 5000,
      });
      const call = client.connect({ metadata: { authorization: `Bearer ${opts.token}` } });
      return {
        send: (r) => call.send(r),
        end: () => call.end(),
        cancel: () => {
          call.cancel();
          client.$close();
        },
        [Symbol.asyncIterator]: async function* () {
          try {
            yield* call;
          } finally {
            client.$close();
          }
        },
      };
    },
    onPolicy: (p) => {
      policy = agentPolicyFrom(p, policy);
      log.info(
        {
          enabled: policy.enabled,
          cpu: policy.cpu.threshold,
          memory: policy.memory.threshold,
          error_rate: policy.error_rate.threshold,
        },
        'predictive policy from overwatch',
      );
    },
    onReportInterval: (ms) => {
      if (ms >= 100) schedule(ms);
    },
    onConnectedChange: (c) => {
      metrics.connected.set(c ? 1 : 0);
      if (!c) metrics.reconnects.inc();
    },
  });

  const states = new Map<SignalName, SignalState>(SIGNALS.map((s) => [s, initialSignalState(s)]));
  const failing = new Set<SignalName>();
  let sequence = 0;
  let busy = false;
  const started = performance.now();

  async function tick(): Promise<void> {
    if (busy) return; // a slow source must not stack rounds
    busy = true;
    try {
      const now = performance.now();
      const readings: Partial<Record<SignalName, SignalReading>> = {};
      await Promise.all(
        SIGNALS.map(async (name) => {
          try {
            const value = await sources.sources[name].read();
            const t = performance.now();
            const next = evaluate(
              states.get(name) ?? initialSignalState(name),
              { tMs: t, value },
              policy[name],
              t,
            );
            states.set(name, next.state);
            readings[name] = next.reading;
            metrics.observeReading(name, next.reading);
            if (failing.delete(name)) log.info({ signal: name }, 'signal source recovered');
          } catch (e: unknown) {
            if (!failing.has(name))
              log.warn({ signal: name, err: e }, 'signal source failed; leaving it out of reports');
            failing.add(name);
          }
        }),
      );
      const checks: CheckObservation[] = a.backends.map((b) => {
        const s = monitor.get(`${b.service}|${b.address}:${b.port}`);
        if (s?.healthy !== undefined) metrics.setBackendHealthy(b.service, b.address, b.port, s.healthy);
        return {
          service: b.service,
          address: b.address,
          port: b.port,
          healthy: s?.healthy,
          latencyMs: s?.rttMs,
          error: s?.lastError,
        };
      });
      sequence += 1;
      const report = buildReport(sequence, now - started, checks, readings, policy.enabled);
      if (stream.sendReport({ case: 'report', value: report })) metrics.reportsSent.inc();
    } finally {
      busy = false;
    }
  }

  let timer: NodeJS.Timeout | undefined;
  function schedule(ms: number): void {
    if (timer !== undefined) clearInterval(timer);
    timer = setInterval(() => void tick(), ms);
  }

  let metricsServer: ReturnType<typeof createMetricsServer> | undefined;
  if (a.metrics.enabled) {
    const hp = parseHostPort(a.metrics.address);
    if (hp === undefined) throw new Error(`agent.metrics.address: invalid ${a.metrics.address}`); // validated at load
    metricsServer = createMetricsServer({ host: hp.host, port: hp.port, registry: metrics.registry });
    await metricsServer.start();
  }
  monitor.start();
  stream.start();
  schedule(a.reportIntervalMs);

  return {
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      await stream.stop(true);
      await monitor.stop();
      await metricsServer?.close();
    },
  };
}
