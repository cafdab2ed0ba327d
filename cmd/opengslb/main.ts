#!/usr/bin/env node
/**
 * `opengslb`: the overwatch node. Parses flags, loads configuration, wires the node and handles signals.
 * Exit codes: 0 ok, 1 runtime failure (e.g. a port in use), 2 usage or configuration error.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { resolveDataDir } from '../../internal/config/data-dir.js';
import type { Assignment } from '../../internal/config/overlay.js';
import { loadOverwatchConfig, overwatchFlags } from '../../internal/config/overwatch.js';
import { clusterStartProblems } from '../../internal/config/overwatch-checks.js';
import type { OverwatchConfig } from '../../internal/config/overwatch-schema.js';
import { formatProblem } from '../../internal/config/validate.js';
import { routeGrpcLogs } from '../../internal/grpc/logging.js';
import { createLogger } from '../../internal/log/index.js';
import { VERSION } from '../../internal/version/version.js';
import { type OverwatchNode, startOverwatchNode } from '../../overwatch/node.js';

const USAGE = `Usage:
  opengslb --config FILE [flags]        run an overwatch node
  opengslb validate --config FILE       check a configuration file (exit 0 ok, 2 problems)
  opengslb --version | --help

Flags (each sets a configuration key; flag > OPENGSLB_* environment > file > default):
  --config FILE              YAML configuration file
${overwatchFlags.map((f) => `  --${f.flag}${f.boolean ? '' : ' VALUE'}`.padEnd(29) + f.help).join('\n')}

Signals: SIGHUP reloads the configuration; SIGTERM/SIGINT drain and exit.
Docs: docs/configuration.md (every key), README.md (quick start), docs/cluster.md (cluster mode).`;

/** Shutdown budget after SIGTERM; a cluster leader gets its hand-off wait (2 x heartbeat_timeout) on top. */
const STOP_DEADLINE_MS = 5000;

function fail(code: 1 | 2, lines: string[]): never {
  for (const l of lines) process.stderr.write(`opengslb: ${l}\n`);
  process.exit(code);
}

function parseCommandLine(argv: string[]): {
  command: 'run' | 'validate';
  config: string | undefined;
  flags: Assignment[];
} {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    config: { type: 'string' },
    help: { type: 'boolean' },
    version: { type: 'boolean' },
  };
  for (const f of overwatchFlags) options[f.flag] = { type: f.boolean ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e: unknown) {
    fail(2, [e instanceof Error ? e.message : String(e), 'run "opengslb --help" for usage']);
  }
  const v = parsed.values;
  if (v['help'] === true) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (v['version'] === true) {
    process.stdout.write(`opengslb ${VERSION}\n`);
    process.exit(0);
  }
  const [command, ...extra] = parsed.positionals;
  if (extra.length > 0 || (command !== undefined && command !== 'validate')) {
    fail(2, [
      `unexpected argument ${JSON.stringify(extra[0] ?? command)}`,
      'run "opengslb --help" for usage',
    ]);
  }
  const flags: Assignment[] = [];
  for (const f of overwatchFlags) {
    const value = v[f.flag];
    if (value === undefined) continue;
    flags.push({ path: f.path, text: String(value), source: `--${f.flag}` });
  }
  const config = typeof v['config'] === 'string' ? v['config'] : undefined;
  return { command: command === 'validate' ? 'validate' : 'run', config, flags };
}

async function main(): Promise<void> {
  const { command, config: file, flags } = parseCommandLine(process.argv.slice(2));
  if (file === undefined) fail(2, ['--config FILE is required', 'run "opengslb --help" for usage']);
  const load = () => loadOverwatchConfig({ file, env: process.env, flags });
  const first = load();
  if (!first.ok) fail(2, first.errors);
  if (command === 'validate') {
    process.stdout.write(`${file}: configuration OK\n`);
    process.exit(0);
  }
  let config: OverwatchConfig = first.value;
  // Judged with flags and environment applied; `validate` of a shared file cannot know them.
  const startProblems = clusterStartProblems(config);
  if (startProblems.length > 0)
    fail(
      2,
      startProblems.map((p) => formatProblem(p)),
    );
  const log = createLogger({ level: config.logging.level, format: config.logging.format });
  routeGrpcLogs(log.child({ component: 'grpc' }));
  const nodeName = config.cluster.nodeName === '' ? hostname() : config.cluster.nodeName;
  log.info({ version: VERSION, mode: config.cluster.mode, node_name: nodeName }, 'OpenGSLB starting');
  const dataDir = resolveDataDir(config.cluster.raft.dataDir, {
    fallback: config.cluster.mode !== 'cluster',
  });
  if (!dataDir.ok) fail(1, [dataDir.error]);
  if (dataDir.fellBack)
    log.warn(
      { data_dir: dataDir.dir, reason: dataDir.reason },
      'default data directory not usable; using fallback',
    );

  // Handlers go in before anything binds: a SIGHUP during start-up must not kill the process (its default
  // action), and a SIGTERM during start-up must still exit cleanly once listeners are up.
  let node: OverwatchNode | undefined;
  let reloadPending = false;
  let stopping = false;
  const reload = (): void => {
    if (stopping) return;
    if (node === undefined) {
      reloadPending = true;
      return;
    }
    const next = load();
    if (!next.ok) {
      log.error({ errors: next.errors }, 'configuration reload rejected; keeping the running configuration');
      node.reloadFailed();
      return;
    }
    config = next.value;
    node.reload(config);
  };
  // Raft settings are read once at start (a reload does not change them), so the hand-off wait is fixed here.
  const handOffMs = config.cluster.mode === 'cluster' ? 2 * config.cluster.raft.heartbeatTimeoutMs : 0;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    const deadlineMs = STOP_DEADLINE_MS + handOffMs;
    const deadline = setTimeout(() => {
      log.error({ deadline_ms: deadlineMs }, 'shutdown deadline passed; exiting');
      process.exit(1);
    }, deadlineMs);
    deadline.unref();
    if (node === undefined) return; // start-up finishes, sees `stopping` and stops
    node.stop().then(
      () => {
        log.info('stopped');
        log.flush();
        process.exit(0);
      },
      (e: unknown) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGHUP', reload);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    node = await startOverwatchNode({ config, log, version: VERSION, nodeName, dataDir: dataDir.dir });
  } catch (e: unknown) {
    log.error({ err: e }, 'startup failed');
    fail(1, [e instanceof Error ? e.message : String(e)]);
  }
  log.info({ data_dir: dataDir.dir }, 'OpenGSLB running');
  if (stopping) {
    stopping = false;
    stop('SIGTERM (during start-up)');
  } else if (reloadPending) reload();
}

main().catch((e: unknown) =>
  fail(1, [`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`]),
);
