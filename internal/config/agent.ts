/** Loading the agent configuration: file, then `OPENGSLB_*` environment, then flags. */
import { crossCheckAgent } from './agent-checks.js';
import { type AgentConfig, agentSchema } from './agent-schema.js';
import { type LoadResult, loadConfig } from './load.js';
import type { Assignment } from './overlay.js';
import { renderReference } from './reference.js';

/** A command-line flag that sets one configuration key; same shape as `overwatchFlags`. */
export interface AgentFlag {
  flag: string;
  path: string[];
  help: string;
  boolean?: true;
}

/**
 * Command-line flags of `opengslb-agent` that set configuration keys. The token itself has no flag on
 * purpose: command lines are visible to every user of the machine (`ps`); use `--token-file`.
 */
export const agentFlags: readonly AgentFlag[] = [
  { flag: 'id', path: ['agent', 'id'], help: 'agent identity (default: host name)' },
  { flag: 'region', path: ['agent', 'region'], help: 'region of this machine' },
  {
    flag: 'overwatch',
    path: ['agent', 'overwatch', 'addresses'],
    help: 'comma-separated overwatch gRPC addresses host:port',
  },
  { flag: 'token-file', path: ['agent', 'overwatch', 'token_file'], help: 'file holding the agent token' },
  { flag: 'log-level', path: ['logging', 'level'], help: 'debug | info | warn | error' },
  {
    flag: 'metrics',
    path: ['agent', 'metrics', 'enabled'],
    help: 'serve Prometheus metrics',
    boolean: true,
  },
  { flag: 'metrics-address', path: ['agent', 'metrics', 'address'], help: 'Prometheus metrics address' },
];

export interface AgentLoadOptions {
  /** Path of the YAML file; undefined: defaults, environment and flags only. */
  file: string | undefined;
  /** Text of the file when the caller already has it (tests, reload); otherwise read from `file`. */
  text?: string;
  /** Environment to take `OPENGSLB_*` values from (`OPENGSLB_AGENT_REGION` -> `agent.region`). */
  env?: NodeJS.ProcessEnv;
  /** Flag values, applied after the environment. */
  flags?: readonly Assignment[];
}

/**
 * Loads, overlays and validates; every problem comes back as one line in `errors`. `agent.id` stays `""`
 * when unset: the caller substitutes the host name.
 */
export function loadAgentConfig(opts: AgentLoadOptions): LoadResult<AgentConfig> {
  return loadConfig<AgentConfig>({ schema: agentSchema, crossCheck: crossCheckAgent, ...opts });
}

/** The Markdown agent configuration reference (docs/agent-configuration.md), generated from the schema. */
export function agentReference(): string {
  const flags = agentFlags.map(
    (f) => `| \`--${f.flag}\` | \`${f.path.join('.')}\` | ${f.help.replaceAll('|', '\\|')} |`,
  );
  const intro = [
    'Generated from `internal/config/agent-schema.ts` by `npm run docs`; a test fails when it is out of date.',
    '',
    '`opengslb-agent --config /etc/opengslb/agent.yaml` runs on an application server, checks its backends',
    'locally and streams health and host signals to the overwatch over gRPC. Thresholds, the error-rate window',
    'and the forecast horizon are not set here: they come from the overwatch (`cluster.predictive_health`).',
    '',
    'Values come from, strongest first: command-line flags, `OPENGSLB_*` environment variables, the YAML file',
    '(`--config`), and the defaults below. An environment variable names a key by its path in upper case with `_`',
    'between parts: `OPENGSLB_AGENT_REGION` sets `agent.region`, `OPENGSLB_AGENT_OVERWATCH_ADDRESSES=a,b` sets a',
    "list. An `OPENGSLB_*` variable that names no agent key is an error, except `opengslbctl`'s own",
    '(`OPENGSLB_ADDRESS`, `OPENGSLB_ADMIN_TOKEN`, `OPENGSLB_API`), which are ignored. Durations are written like',
    '`500ms`, `10s`, `1m30s`. Every problem is reported at once, with its path and position in the file.',
    '',
    'A minimal file:',
    '',
    '```yaml',
    'agent:',
    '  region: us-east-1',
    '  overwatch:',
    '    addresses: ["10.0.1.1:9443", "10.0.1.2:9443"]',
    '    token_file: /etc/opengslb/agent.token',
    '  backends:',
    '    - service: app.example.com',
    '      address: 10.0.1.10',
    '      port: 80',
    '```',
    '',
    '| flag | key | meaning |',
    '|---|---|---|',
    ...flags,
  ].join('\n');
  return renderReference(agentSchema, 'Agent configuration reference', intro);
}
