/**
 * The overwatch's metric families. Labels are bounded: query type from a fixed set, rcode, region — never a
 * query name or a client address.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Query types counted by name; everything else is `OTHER`, so a scan of odd types cannot explode the series. */
const COUNTED_QTYPES = new Set([
  'A',
  'AAAA',
  'ANY',
  'CAA',
  'CNAME',
  'HTTPS',
  'MX',
  'NS',
  'PTR',
  'SOA',
  'SRV',
  'SVCB',
  'TXT',
]);

export function qtypeLabel(type: string): string {
  return COUNTED_QTYPES.has(type) ? type : 'OTHER';
}

export interface OverwatchMetrics {
  dnsQueries: Counter<'qtype' | 'rcode'>;
  dnsQueryDuration: Histogram;
  dnsDropped: Counter<'reason'>;
  dnsRefused: Counter;
  healthCheckResults: Counter<'region' | 'result'>;
  healthyServers: Gauge<'region'>;
  configReloads: Counter<'result'>;
  appInfo: Gauge<'version'>;
}

export function createOverwatchMetrics(registry: Registry, version: string): OverwatchMetrics {
  const m: OverwatchMetrics = {
    dnsQueries: new Counter({
      name: 'opengslb_dns_queries_total',
      help: 'DNS queries answered, by query type and response code.',
      labelNames: ['qtype', 'rcode'],
      registers: [registry],
    }),
    dnsQueryDuration: new Histogram({
      name: 'opengslb_dns_query_duration_seconds',
      help: 'Time to compute and encode a DNS answer.',
      buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01],
      registers: [registry],
    }),
    dnsDropped: new Counter({
      name: 'opengslb_dns_dropped_total',
      help: 'DNS packets dropped without an answer (unreadable header, or a response packet).',
      labelNames: ['reason'],
      registers: [registry],
    }),
    dnsRefused: new Counter({
      name: 'opengslb_dns_refused_total',
      help: 'DNS queries answered REFUSED (outside our zones, or a non-leader node in cluster mode).',
      registers: [registry],
    }),
    healthCheckResults: new Counter({
      name: 'opengslb_health_check_results_total',
      help: 'Completed health checks, by region and result.',
      labelNames: ['region', 'result'],
      registers: [registry],
    }),
    healthyServers: new Gauge({
      name: 'opengslb_healthy_servers',
      help: 'Servers currently healthy, by region.',
      labelNames: ['region'],
      registers: [registry],
    }),
    configReloads: new Counter({
      name: 'opengslb_config_reloads_total',
      help: 'Configuration reloads (SIGHUP), by result.',
      labelNames: ['result'],
      registers: [registry],
    }),
    appInfo: new Gauge({
      name: 'opengslb_app_info',
      help: 'Build information; always 1.',
      labelNames: ['version'],
      registers: [registry],
    }),
  };
  m.appInfo.set({ version }, 1);
  // Zero-initialise so rate() and alerts see the series before the first event.
  m.configReloads.inc({ result: 'success' }, 0);
  m.configReloads.inc({ result: 'failure' }, 0);
  m.dnsRefused.inc(0);
  return m;
}
