/** Loading the overwatch configuration: file, then `OPENGSLB_*` environment, then flags. */
import { type LoadResult, loadConfig } from './load.js';
import type { Assignment } from './overlay.js';
import { crossCheckOverwatch } from './overwatch-checks.js';
import { type OverwatchConfig, overwatchSchema } from './overwatch-schema.js';
import { renderReference } from './reference.js';
import { validate } from './validate.js';

/**
 * Command-line flags that set configuration keys (DESIGN.md section 7). Every listener has one, so a single
 * shared file can serve all nodes of a cluster.
 */
export const overwatchFlags: ReadonlyArray<{ flag: string; path: string[]; help: string; boolean?: true }> = [
  { flag: 'mode', path: ['cluster', 'mode'], help: 'standalone | cluster' },
  { flag: 'node-name', path: ['cluster', 'node_name'], help: 'stable node identity (default: host name)' },
  { flag: 'bind-address', path: ['cluster', 'bind_address'], help: 'Raft listen address host:port' },
  { flag: 'advertise-address', path: ['cluster', 'advertise_address'], help: 'Raft address peers use' },
  {
    flag: 'bootstrap',
    path: ['cluster', 'bootstrap'],
    help: 'create a new cluster if this node has no state',
    boolean: true,
  },
  { flag: 'join', path: ['cluster', 'join'], help: 'comma-separated Raft addresses of members to join' },
  { flag: 'data-dir', path: ['cluster', 'raft', 'data_dir'], help: 'directory for Raft and decision state' },
  { flag: 'log-level', path: ['logging', 'level'], help: 'debug | info | warn | error' },
  { flag: 'dns-listen-address', path: ['dns', 'listen_address'], help: 'DNS udp+tcp address' },
  { flag: 'api-address', path: ['api', 'address'], help: 'REST API address' },
  { flag: 'metrics-address', path: ['metrics', 'address'], help: 'Prometheus metrics address' },
  { flag: 'grpc-address', path: ['grpc', 'address'], help: 'agent/admin gRPC address' },
  {
    flag: 'gossip-address',
    path: ['cluster', 'gossip', 'bind_address'],
    help: 'gossip address (advertised only; gossip is not built yet)',
  },
];

export interface OverwatchLoadOptions {
  file: string | undefined;
  text?: string;
  env?: NodeJS.ProcessEnv;
  flags?: readonly Assignment[];
}

/** Loads, overlays and validates; every problem comes back as one line in `errors`. */
export function loadOverwatchConfig(opts: OverwatchLoadOptions): LoadResult<OverwatchConfig> {
  return loadConfig<OverwatchConfig>({ schema: overwatchSchema, crossCheck: crossCheckOverwatch, ...opts });
}

/** The configuration with nothing set: every default. */
export function defaultOverwatchConfig(): OverwatchConfig {
  return validate<OverwatchConfig>(overwatchSchema, {}).value;
}

/** The Markdown configuration reference (docs/configuration.md), generated from the schema. */
export function overwatchReference(): string {
  const flags = overwatchFlags.map(
    (f) => `| \`--${f.flag}\` | \`${f.path.join('.')}\` | ${f.help.replaceAll('|', '\\|')} |`,
  );
  const intro = [
    'Generated from `internal/config/overwatch-schema.ts` by `npm run docs`; a test fails when it is out of date.',
    '',
    'Values come from, strongest first: command-line flags, `OPENGSLB_*` environment variables, the YAML file',
    '(`--config`), and the defaults below. An environment variable names a key by its path in upper case with `_`',
    'between parts: `OPENGSLB_CLUSTER_RAFT_DATA_DIR` sets `cluster.raft.data_dir`, `OPENGSLB_API_ALLOWED_NETWORKS=a,b`',
    "sets a list. An `OPENGSLB_*` variable that names no key is an error, except `opengslbctl`'s own",
    '(`OPENGSLB_ADDRESS`, `OPENGSLB_ADMIN_TOKEN`, `OPENGSLB_API`), which are ignored. Durations are written like',
    '`500ms`, `10s`, `1m30s`. `opengslb validate --config FILE` reports every problem with its path and exits 2.',
    '',
    '| flag | key | meaning |',
    '|---|---|---|',
    ...flags,
  ].join('\n');
  return renderReference(overwatchSchema, 'Overwatch configuration reference', intro);
}
