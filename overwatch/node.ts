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
import { createAgentRegistry } from './agent-registry.js';
import { overwatchRoutes } from './api-routes.js';
import { answerQuery } from './dns-answer.js';
import { healthTargetsOf } from './health-targets.js';
import { createOverwatchMetrics, qtypeLabel } from './metrics.js';
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

  const listeners = [dns, api, metricsServer].filter((l) => l !== undefined);
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
      api: config.api.enabled ? config.api.address : 'disabled',
      metrics: config.metrics.enabled ? config.metrics.address : 'disabled',
    },
    'listeners started',
  );
  monitor.start();
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
      config = next;
      log.level = next.logging.level;
      allow = accessCheck(next);
      monitor.update(healthTargetsOf(next));
      serving.setConfig(next);
      rebuild();
      metrics.configReloads.inc({ result: 'success' });
      log.info({ domains: next.domains.length, regions: next.regions.length }, 'configuration reloaded');
    },
    reloadFailed(): void {
      metrics.configReloads.inc({ result: 'failure' });
    },
    async stop(): Promise<void> {
      await Promise.all(listeners.map((l) => l.close()));
      await monitor.stop();
      await firstRound;
    },
    whenReady: () => firstRound,
  };
}
