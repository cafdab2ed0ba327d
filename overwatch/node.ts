/**
 * A standalone overwatch node: health monitor, answer table, DNS, REST API and metrics wired together. This is
 * the shell: it owns sockets and timers; policy lives in the pure modules it calls.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import { createApiServer, createNetworkMatcher } from '../internal/api/index.js';
import { parseHostPort } from '../internal/config/checks.js';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import { createDnsServer } from '../internal/dns/server.js';
import { createHealthMonitor, type TargetStatus } from '../internal/health/index.js';
import { createMetricsServer, createRegistry } from '../internal/metrics/registry.js';
import { createAdminService } from './admin-service.js';
import { createAgentRegistry } from './agent-registry.js';
import { createAgentService } from './agent-service.js';
import { overwatchRoutes } from './api-routes.js';
import { answerQuery } from './dns-answer.js';
import { createNodeGrpc } from './grpc-server.js';
import { healthTargetsOf } from './health-targets.js';
import { createOverwatchMetrics, qtypeLabel, refreshAgentGauges } from './metrics.js';
import { policyFromConfig } from './proto-convert.js';
import { createServingState, type ServingState } from './serving-state.js';

export interface OverwatchNodeOptions {
  config: OverwatchConfig;
  log: Logger;
  version: string;
  nodeName: string;
}

export interface OverwatchNode {
  /** Applies a new, already validated configuration without dropping a query. */
  reload(config: OverwatchConfig): void;
  /** Counts a rejected reload (the running configuration stays). */
  reloadFailed(): void;
  /** Stops accepting, finishes in-flight work and releases every socket and timer. */
  stop(): Promise<void>;
  /** Resolves once the first round of health checks has completed. */
  whenReady(): Promise<void>;
}

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

function accessCheck(config: OverwatchConfig): (addr: string) => boolean {
  const { allowedNetworks, allowLoopback } = config.api;
  // An empty list admits no remote network (a safer default than "everyone"); loopback is governed separately.
  const remote =
    allowedNetworks.length > 0 ? createNetworkMatcher(allowedNetworks, { allowLoopback }) : () => false;
  const loopback = allowLoopback ? createNetworkMatcher(LOOPBACK, { allowLoopback: true }) : () => false;
  return (addr) => remote(addr) || loopback(addr);
}

function hostPort(address: string): { host: string; port: number } {
  const hp = parseHostPort(address);
  if (hp === undefined) throw new Error(`invalid listen address ${JSON.stringify(address)}`); // validated at load
  return hp;
}

/** Binds every listener (DNS, API, metrics) and starts health checks. Rejects with a clear error if a bind fails. */
export async function startOverwatchNode(opts: OverwatchNodeOptions): Promise<OverwatchNode> {
  const { log } = opts;
  let config = opts.config;
  const registry = createRegistry();
  const metrics = createOverwatchMetrics(registry, opts.version);
  const rand = { int: (n: number) => randomInt(n) };
  const cursors = new Map<string, number>();
  const nextCursor = (domain: string, family: 4 | 6): number => {
    const key = `${family}/${domain}`;
    const c = cursors.get(key) ?? 0;
    // Wrap well below 2^53; the modulo in pickRoundRobin keeps rotation exact.
    cursors.set(key, (c + 1) % 1_000_000_007);
    return c;
  };

  let latchedReady = false;
  const agents = createAgentRegistry();
  let state: ServingState | undefined;
  const rebuild = (): void => {
    state?.rebuild();
    metrics.healthyServers.reset();
    for (const r of config.regions) metrics.healthyServers.set({ region: r.name }, 0);
    for (const s of monitor.status())
      if (s.healthy === true) metrics.healthyServers.inc({ region: s.region });
  };
  const monitor = createHealthMonitor({
    targets: healthTargetsOf(config),
    log: log.child({ component: 'health' }),
    onResult: (t, r) =>
      metrics.healthCheckResults.inc({ region: t.region, result: r.ok ? 'success' : 'failure' }),
    onChange: () => rebuild(),
  });
  const serving = createServingState({
    config,
    monitor,
    registry: agents,
    serial: Math.floor(Date.now() / 1000),
  });
  state = serving;
  rebuild();
  const isReady = (): boolean => {
    latchedReady ||= monitor.firstRoundDone();
    return latchedReady;
  };

  const dnsAddr = hostPort(config.dns.listenAddress);
  const dns = createDnsServer({
    host: dnsAddr.host,
    port: dnsAddr.port,
    log: log.child({ component: 'dns' }),
    maxUdpSize: config.dns.maxUdpSize,
    handler: (query) => {
      const started = performance.now();
      const answer = answerQuery(query, { table: serving.table(), ready: isReady(), rand, nextCursor });
      metrics.dnsQueries.inc({ qtype: qtypeLabel(query.question.type), rcode: answer.rcode });
      if (answer.rcode === 'REFUSED') metrics.dnsRefused.inc();
      metrics.dnsQueryDuration.observe((performance.now() - started) / 1000);
      return answer;
    },
    onDrop: (reason) => metrics.dnsDropped.inc({ reason }),
    onError: (rcode) => metrics.dnsQueries.inc({ qtype: 'OTHER', rcode }),
  });

  const startedAt = new Date();
  const servers = (): TargetStatus[] => monitor.status();
  const apiAddr = hostPort(config.api.address);
  let allow = accessCheck(config);
  const api = config.api.enabled
    ? createApiServer({
        host: apiAddr.host,
        port: apiAddr.port,
        log: log.child({ component: 'api' }),
        allow: (addr) => allow(addr),
        // Leaves room inside the 5 s SIGTERM budget for the other listeners and the health monitor.
        shutdownTimeoutMs: 3000,
        routes: overwatchRoutes({
          version: opts.version,
          nodeName: opts.nodeName,
          config: () => config,
          state: serving,
          agents: () => agents.list(),
          ready: isReady,
          servers,
          serverStatus: (key) => monitor.get(key),
          startedAt,
        }),
      })
    : undefined;
  const metricsAddr = hostPort(config.metrics.address);
  const metricsServer = config.metrics.enabled
    ? createMetricsServer({ host: metricsAddr.host, port: metricsAddr.port, registry })
    : undefined;

  const agentService = createAgentService({
    nodeId: opts.nodeName,
    registry: agents,
    log: log.child({ component: 'agents' }),
    tokens: () => config.cluster.overwatch.agentTokens,
    domains: () => new Set(config.domains.map((d) => d.name)),
    policy: () => policyFromConfig(config),
    minReportIntervalMs: () => config.cluster.overwatch.minReportIntervalMs,
    maxStreams: config.grpc.maxAgentStreams,
    onChange: () => {
      rebuild();
      refreshAgentGauges(metrics, agents.list());
    },
    onThrottled: () => metrics.agentReports.inc({ result: 'throttled' }),
    onRejected: (code) => metrics.agentRejected.inc({ code }),
  });
  const grpcAddr = hostPort(config.grpc.address);
  const grpc = createNodeGrpc({
    host: grpcAddr.host,
    port: grpcAddr.port,
    tls: config.grpc.tls,
    log: log.child({ component: 'grpc' }),
    agent: agentService.impl,
    admin: createAdminService({
      nodeId: opts.nodeName,
      version: opts.version,
      state: serving,
      registry: agents,
      ready: isReady,
      adminToken: () => config.api.adminToken,
      rand,
      addresses: () => ({
        grpc: config.grpc.address,
        api: config.api.address,
        dns: config.dns.listenAddress,
      }),
    }),
  });
  const listeners = [dns, grpc, api, metricsServer].filter((l) => l !== undefined);
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    for (const l of listeners) {
      await l.start();
      started.push(l);
    }
  } catch (e: unknown) {
    await Promise.all(started.map((l) => l.close()));
    throw e;
  }
  log.info(
    {
      dns: config.dns.listenAddress,
      grpc: config.grpc.address,
      api: config.api.enabled ? config.api.address : 'disabled',
      metrics: config.metrics.enabled ? config.metrics.address : 'disabled',
    },
    'listeners started',
  );
  monitor.start();
  // Agent silence is judged on the monotonic clock; a sweep a second keeps stale detection within 1 s.
  const sweep = setInterval(() => {
    const ow = config.cluster.overwatch;
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
    rebuild();
    refreshAgentGauges(metrics, agents.list());
  }, 1000);
  const firstRound = monitor.whenFirstRoundDone().then(
    () => {
      isReady();
      log.info({ servers: monitor.status().length }, 'first round of health checks complete; answering DNS');
    },
    () => {},
  );

  return {
    reload(next: OverwatchConfig): void {
      const restartNeeded = (['dns', 'api', 'metrics', 'grpc'] as const).filter((k) => {
        const before = k === 'dns' ? config.dns.listenAddress : config[k].address;
        const after = k === 'dns' ? next.dns.listenAddress : next[k].address;
        return before !== after;
      });
      if (restartNeeded.length > 0) {
        log.warn({ listeners: restartNeeded }, 'listen addresses changed; they take effect after a restart');
      }
      const policyChanged =
        JSON.stringify(next.cluster.predictiveHealth) !== JSON.stringify(config.cluster.predictiveHealth);
      config = next;
      log.level = next.logging.level;
      allow = accessCheck(next);
      monitor.update(healthTargetsOf(next));
      serving.setConfig(next);
      rebuild();
      if (policyChanged) agentService.broadcastPolicy();
      metrics.configReloads.inc({ result: 'success' });
      log.info({ domains: next.domains.length, regions: next.regions.length }, 'configuration reloaded');
    },
    reloadFailed(): void {
      metrics.configReloads.inc({ result: 'failure' });
    },
    async stop(): Promise<void> {
      clearInterval(sweep);
      await Promise.all(listeners.map((l) => l.close()));
      await monitor.stop();
      await firstRound;
    },
    whenReady: () => firstRound,
  };
}
