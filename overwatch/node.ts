/**
 * A standalone overwatch node: health monitor, answer table, DNS, REST API and metrics wired together. This is
 * the shell: it owns sockets and timers; policy lives in the pure modules it calls.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createApiServer, createNetworkMatcher } from '../internal/api/index.js';
import { parseHostPort } from '../internal/config/checks.js';
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import { createDnsServer } from '../internal/dns/server.js';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { createHealthMonitor, type TargetStatus } from '../internal/health/index.js';
import { createMetricsServer, createRegistry } from '../internal/metrics/registry.js';
import { createAdminService } from './admin-service.js';
import { createAgentRegistry } from './agent-registry.js';
import { createRejectionAudit } from './agent-rejections.js';
import { agentRoute } from './agent-route.js';
import { createAgentService } from './agent-service.js';
import { startAgentSweep } from './agent-sweep.js';
import { overwatchRoutes } from './api-routes.js';
import type { ClusterRuntime } from './cluster-runtime.js';
import { type ClusterView, standaloneClusterView } from './cluster-view.js';
import {
  type RoleHooks,
  refreshClusterGauges,
  setStandaloneClusterGauges,
  startClusterWiring,
} from './cluster-wiring.js';
import { clusterReadBarrier, localReadBarrier } from './consistent-read.js';
import { type DecisionLog, openStandaloneDecisionLog } from './decision-log.js';
import { createDecisionLoop } from './decision-loop.js';
import { mayAnswer } from './dns-gate.js';
import { createDnsHandler } from './dns-handler.js';
import { createEventHub, reportEvents } from './event-hub.js';
import { createFsm, type EventRecord, idKey } from './fsm.js';
import { createNodeGrpc } from './grpc-server.js';
import { healthTargetsOf } from './health-targets.js';
import { createOverwatchMetrics, refreshAgentGauges, refreshDecisionGauges } from './metrics.js';
import { policyFromConfig } from './proto-convert.js';
import { createServingState, type ServingState } from './serving-state.js';

export interface OverwatchNodeOptions {
  config: OverwatchConfig;
  log: Logger;
  version: string;
  nodeName: string;
  /** Resolved data directory: the decision log lives in `<dataDir>/decisions`. */
  dataDir: string;
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
/** How long a consistent read waits for this node to apply its confirmed read index. */
const READ_APPLY_TIMEOUT_MS = 5_000;

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
  let latchedReady = false;
  const agents = createAgentRegistry();
  const startedMs = performance.now();
  const hub = createEventHub();
  const fsm = createFsm();
  let serving: ServingState | undefined;
  const onApplied = (events: EventRecord[]): void => {
    // Cluster mode replays the log while starting, before the serving state exists (standalone replays
    // without calling this); the serving state is built from the FSM once it exists, so nothing is lost.
    if (serving === undefined) return;
    serving.rebuild();
    refreshGauges();
    hub.publish(events);
    reportEvents(events, { metrics, log, vetoMode: config.cluster.overwatch.vetoMode });
  };
  const clustered = config.cluster.mode === 'cluster';
  let cluster: ClusterRuntime | undefined;
  const roleHooks: RoleHooks = {};
  let dlog: DecisionLog;
  if (clustered) {
    ({ cluster, dlog } = await startClusterWiring({
      config,
      nodeName: opts.nodeName,
      dataDir: opts.dataDir,
      fsm,
      metrics,
      log,
      onApplied,
      hooks: roleHooks,
    }));
  } else {
    dlog = await openStandaloneDecisionLog({
      dir: join(opts.dataDir, 'decisions'),
      fsm,
      log: log.child({ component: 'decisions' }),
      snapshotThreshold: config.cluster.raft.snapshotThreshold,
      onApplied,
    });
  }
  const leading = (): boolean => cluster === undefined || cluster.isLeader();
  const monitor = createHealthMonitor({
    targets: healthTargetsOf(config),
    log: log.child({ component: 'health' }),
    onResult: (t, r) => {
      metrics.healthCheckResults.inc({ region: t.region, result: r.ok ? 'success' : 'failure' });
      // Region checks are also the external validation of agent-fronted static backends (veto streaks).
      if (!r.ok) loop.trigger();
    },
    onChange: () => {
      refreshHealthyServers();
      loop.trigger();
    },
  });
  const servingState = createServingState({
    config,
    fsm: () => fsm.state(),
    serial: Math.floor(Date.now() / 1000),
  });
  serving = servingState;
  const loop = createDecisionLoop({
    nodeName: opts.nodeName,
    config: () => config,
    fsm,
    dlog,
    registry: agents,
    regionChecks: monitor,
    log,
    startedMs,
    onValidation: (_t, r) => metrics.validationChecks.inc({ result: r.ok ? 'success' : 'failure' }),
    active: leading,
  });
  roleHooks.decide = () => loop.trigger();
  roleHooks.settle = () => loop.settle();
  // Operator writes answer once the change is committed and the decisions it causes are applied, so the
  // next DNS query already reflects it.
  async function proposeAndSettle(cmds: Command[]): Promise<EventRecord[]> {
    const events = await loop.propose(cmds);
    await loop.settle();
    return events;
  }
  function refreshHealthyServers(): void {
    metrics.healthyServers.reset();
    for (const r of config.regions) metrics.healthyServers.set({ region: r.name }, 0);
    for (const st of monitor.status())
      if (st.healthy === true) metrics.healthyServers.inc({ region: st.region });
  }
  function refreshGauges(): void {
    const s = fsm.state();
    const panicking = new Set(
      [...s.decisions.values()].filter((d) => d.details['panic'] === 'true').map((d) => d.service),
    );
    refreshDecisionGauges(
      metrics,
      servingState.backends(),
      (b) => s.decisions.get(idKey(b))?.weightFraction ?? 0,
      [...s.overrides.values()],
      panicking,
      Date.now(),
    );
  }
  if (cluster === undefined) setStandaloneClusterGauges(metrics);
  metrics.clusterLeaderChanges.inc(0);
  refreshHealthyServers();
  refreshGauges();
  const isReady = (): boolean => {
    // Latched by the first-round promise below, once decisions reflect the first round: a reload that adds
    // servers does not make the node unready again.
    return latchedReady;
  };

  const dnsAddr = hostPort(config.dns.listenAddress);
  const dns = createDnsServer({
    host: dnsAddr.host,
    port: dnsAddr.port,
    log: log.child({ component: 'dns' }),
    maxUdpSize: config.dns.maxUdpSize,
    handler: createDnsHandler({
      metrics,
      mayServe: (now) =>
        cluster === undefined ||
        (cluster.conflict() === undefined && mayAnswer(cluster.raft, config.dns, now)),
      table: () => servingState.table(),
      ready: isReady,
      rand,
      now: () => performance.now(),
    }),
    onDrop: (reason) => metrics.dnsDropped.inc({ reason }),
    onError: (rcode) => metrics.dnsQueries.inc({ qtype: 'OTHER', rcode }),
  });

  const startedAt = new Date();
  const ownAddresses = () => ({
    grpc: config.grpc.address,
    api: config.api.address,
    dns: config.dns.listenAddress,
  });
  const clusterView: ClusterView =
    cluster ?? standaloneClusterView(opts.nodeName, ownAddresses, () => dlog.applied());
  const readBarrier =
    cluster === undefined ? localReadBarrier : clusterReadBarrier(cluster.raft, READ_APPLY_TIMEOUT_MS);
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
          state: servingState,
          agents: () => agents.list(),
          fsm: () => fsm.state(),
          propose: proposeAndSettle,
          ready: isReady,
          servers,
          serverStatus: (key) => monitor.get(key),
          startedAt,
          cluster: clusterView,
          readBarrier,
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
      loop.trigger();
      refreshAgentGauges(metrics, agents.list());
    },
    onAccepted: (hello, fp) => loop.agentAccepted(hello, fp),
    onGoodbye: (id) => loop.agentGone(id, 'agent said goodbye'),
    onThrottled: () => metrics.agentReports.inc({ result: 'throttled' }),
    onRejected: (code) => metrics.agentRejected.inc({ code }),
    ...(cluster === undefined ? {} : { route: () => agentRoute(clusterView) }),
    onHelloRejected: createRejectionAudit({
      propose: (cmds) => loop.propose(cmds),
      log,
      now: () => performance.now(),
      wallClock: () => Date.now(),
    }),
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
      state: servingState,
      registry: agents,
      ready: isReady,
      fsm: () => fsm.state(),
      propose: proposeAndSettle,
      events: hub,
      adminToken: () => config.api.adminToken,
      rand,
      addresses: ownAddresses,
      cluster: clusterView,
      readBarrier,
      ...(cluster === undefined ? {} : { membership: cluster.membership }),
    }),
  });
  roleHooks.rerouteAgents = () => agentService.reroute();
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
  log.info({ address: config.dns.listenAddress, cluster_mode: clustered }, 'DNS server initialized');
  monitor.start();
  loop.start();
  const stopSweep = startAgentSweep({
    agents,
    config: () => config,
    metrics,
    log,
    onRemoved: (id, reason) => loop.agentGone(id, reason),
    onChange: () => loop.trigger(),
    onTick: () => {
      if (cluster !== undefined) refreshClusterGauges(metrics, cluster, startedMs);
    },
  });
  const firstRound = monitor.whenFirstRoundDone().then(
    async () => {
      await loop.settle();
      latchedReady = true;
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
      // Identity, Raft and gossip settings are read once at start; overwatch and predictive_health apply now.
      const fixedAtStart = (
        [
          'mode',
          'nodeName',
          'bindAddress',
          'advertiseAddress',
          'bootstrap',
          'join',
          'raft',
          'gossip',
        ] as const
      ).filter((k) => JSON.stringify(next.cluster[k]) !== JSON.stringify(config.cluster[k]));
      if (fixedAtStart.length > 0) {
        log.warn(
          { keys: fixedAtStart.map((k) => `cluster.${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`) },
          'cluster settings changed; they take effect after a restart',
        );
      }
      const policyChanged =
        JSON.stringify(next.cluster.predictiveHealth) !== JSON.stringify(config.cluster.predictiveHealth);
      config = next;
      log.level = next.logging.level;
      allow = accessCheck(next);
      monitor.update(healthTargetsOf(next));
      servingState.setConfig(next);
      loop.refreshTargets();
      loop.trigger();
      refreshHealthyServers();
      if (policyChanged) agentService.broadcastPolicy();
      metrics.configReloads.inc({ result: 'success' });
      log.info({ domains: next.domains.length, regions: next.regions.length }, 'configuration reloaded');
    },
    reloadFailed(): void {
      metrics.configReloads.inc({ result: 'failure' });
    },
    async stop(): Promise<void> {
      // Hand leadership off while still serving, so the next leader answers DNS without an election gap.
      await cluster?.handOff();
      stopSweep();
      await Promise.all(listeners.map((l) => l.close()));
      await loop.stop();
      await monitor.stop();
      await dlog.close();
      await cluster?.close();
      await firstRound;
    },
    whenReady: () => firstRound,
  };
}
