#!/usr/bin/env node
/**
 * `opengslb-agent`: streams local health and predictive signals to the overwatch. Parses flags, loads the
 * configuration, reads the token, wires the runtime and handles signals.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { startAgent } from '../../agent/agent.js';
import { agentFlags, loadAgentConfig } from '../../internal/config/agent.js';
import type { Assignment } from '../../internal/config/overlay.js';
import { channelCredentials } from '../../internal/grpc/credentials.js';
import { routeGrpcLogs } from '../../internal/grpc/logging.js';
import { createLogger } from '../../internal/log/index.js';
import { VERSION } from '../../internal/version/version.js';

const USAGE = `Usage:
  opengslb-agent --config FILE [flags]     run the agent
  opengslb-agent validate --config FILE    check a configuration file (exit 0 ok, 2 problems)
  opengslb-agent --version | --help

Flags (flag > OPENGSLB_* environment > file > default):
  --config FILE              YAML configuration file (docs/agent-configuration.md)
${agentFlags.map((f) => `  --${f.flag}${f.boolean ? '' : ' VALUE'}`.padEnd(29) + f.help).join('\n')}

Signals: SIGTERM/SIGINT say Goodbye to the overwatch (backends deregistered at once) and exit.`;

function fail(code: 1 | 2, lines: string[]): never {
  for (const l of lines) process.stderr.write(`opengslb-agent: ${l}\n`);
  process.exit(code);
}

function parse(argv: string[]): { validate: boolean; file: string | undefined; flags: Assignment[] } {
  const options: Record<string, { type: 'string' | 'boolean' }> = {
    config: { type: 'string' },
    help: { type: 'boolean' },
    version: { type: 'boolean' },
  };
  for (const f of agentFlags) options[f.flag] = { type: f.boolean ? 'boolean' : 'string' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true });
  } catch (e: unknown) {
    fail(2, [e instanceof Error ? e.message : String(e), 'run "opengslb-agent --help" for usage']);
  }
  const v = parsed.values;
  if (v['help'] === true) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (v['version'] === true) {
    process.stdout.write(`opengslb-agent ${VERSION}\n`);
    process.exit(0);
  }
  const [command, ...extra] = parsed.positionals;
  if (extra.length > 0 || (command !== undefined && command !== 'validate')) {
    fail(2, [
      `unexpected argument ${JSON.stringify(extra[0] ?? command)}`,
      'run "opengslb-agent --help" for usage',
    ]);
  }
  const flags: Assignment[] = [];
  for (const f of agentFlags) {
    const value = v[f.flag];
    if (value !== undefined) flags.push({ path: f.path, text: String(value), source: `--${f.flag}` });
  }
  return {
    validate: command === 'validate',
    file: typeof v['config'] === 'string' ? v['config'] : undefined,
    flags,
  };
}

async function main(): Promise<void> {
  const { validate, file, flags } = parse(process.argv.slice(2));
  if (file === undefined) fail(2, ['--config FILE is required', 'run "opengslb-agent --help" for usage']);
  const loaded = loadAgentConfig({ file, env: process.env, flags });
  if (!loaded.ok) fail(2, loaded.errors);
  if (validate) {
    process.stdout.write(`${file}: configuration OK\n`);
    process.exit(0);
  }
  const config = loaded.value;
  const o = config.agent.overwatch;
  let token = o.token;
  if (o.tokenFile !== '') {
    try {
      token = readFileSync(o.tokenFile, 'utf8').trim();
    } catch (e: unknown) {
      fail(2, [
        `agent.overwatch.token_file: cannot read ${o.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      ]);
    }
  }
  let channel: ReturnType<typeof channelCredentials>;
  try {
    const t = o.tls;
    channel = channelCredentials({
      tls: t.caFile !== '' || t.certFile !== '' || t.keyFile !== '' || t.serverName !== '',
      caFile: t.caFile,
      certFile: t.certFile,
      keyFile: t.keyFile,
      serverName: t.serverName,
    });
  } catch (e: unknown) {
    fail(2, [e instanceof Error ? e.message : String(e)]);
  }
  const log = createLogger({ level: config.logging.level, format: config.logging.format });
  routeGrpcLogs(log.child({ component: 'grpc' }));
  const agentId = config.agent.id === '' ? hostname() : config.agent.id;
  let stopping = false;
  let agent: Awaited<ReturnType<typeof startAgent>> | undefined;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'agent shutting down');
    const deadline = setTimeout(() => process.exit(1), 5000);
    deadline.unref();
    if (agent === undefined) return;
    agent.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, 'agent shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () =>
    log.warn('configuration reload is not supported by the agent; restart it to apply changes'),
  );
  try {
    agent = await startAgent({
      config,
      agentId,
      hostname: hostname(),
      token,
      channel,
      log,
      version: VERSION,
    });
  } catch (e: unknown) {
    log.error({ err: e }, 'agent start-up failed');
    fail(1, [e instanceof Error ? e.message : String(e)]);
  }
  if (stopping) {
    stopping = false;
    stop('SIGTERM (during start-up)');
  }
}

main().catch((e: unknown) =>
  fail(1, [`unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`]),
);
