/**
 * Runs the real `opengslb-agent` binary (built JavaScript) as a child process with a YAML configuration in a
 * temporary directory, and reads what it logs. Agents log JSON lines (pino), so tests count log events by
 * their constant message instead of matching free text.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentPolicyYaml } from './config.js';
import { type CliResult, REPO_ROOT, runBinary } from './opengslb.js';
import { waitFor } from './wait.js';

export const AGENT_BIN = join(REPO_ROOT, 'dist/cmd/opengslb-agent/main.js');

/** `agent.backends[].health_check`; durations as the file writes them. */
export interface AgentCheckYaml {
  type?: 'http' | 'https' | 'tcp';
  path?: string;
  interval?: string;
  timeout?: string;
  failure_threshold?: number;
  success_threshold?: number;
  expected_status?: string;
  /** Local check target instead of the backend address. */
  address?: string;
  /** Local check port instead of the backend port. */
  port?: number;
}

/** `agent.backends[]`. */
export interface AgentBackendYaml {
  service: string;
  address: string;
  port: number;
  weight?: number;
  health_check?: AgentCheckYaml;
}

/** `agent.overwatch.tls`. */
export interface AgentTlsYaml {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  server_name?: string;
}

/** Everything an agent test varies; written as the file's snake_case keys. */
export interface AgentYaml {
  id: string;
  region: string;
  /** Overwatch gRPC addresses (`host:port`). */
  overwatch: string[];
  token: string;
  backends: AgentBackendYaml[];
  /** Default `AGENT_REPORT_MS`: several reports per second keep waits short (see `agentPolicy`). */
  report_interval?: string;
  tls?: AgentTlsYaml;
  /**
   * Paths of files holding the CPU and memory percentages (`source: {type: file}`). `startAgent` fills in
   * files holding `IDLE_PERCENT` when unset: host readings of a machine busy with tests would make agents
   * bleed at random.
   */
  cpu_file?: string;
  memory_file?: string;
  /** Default `debug`, so retries are visible to the tests that count them. */
  log_level?: 'debug' | 'info' | 'warn' | 'error';
}

/** The testkit's default `report_interval`, in ms. */
export const AGENT_REPORT_MS = 300;

/**
 * `cluster.overwatch` for agents started by this testkit: `tokens` plus a `min_report_interval` below
 * `AGENT_REPORT_MS` (the default 500ms would throttle every other 300ms report), then `extra`.
 */
export function agentPolicy(tokens: Record<string, string>, extra: AgentPolicyYaml = {}): AgentPolicyYaml {
  return { agent_tokens: tokens, min_report_interval: '100ms', ...extra };
}

/**
 * Quick local checks: 250ms apart, 250ms deadline, fall 3, rise 1 (a failure shows within ~1 s). The deadline
 * and the third strike leave room for a machine busy with other test files.
 */
export const FAST_AGENT_CHECK: AgentCheckYaml = {
  type: 'http',
  path: '/health',
  interval: '250ms',
  timeout: '250ms',
  failure_threshold: 3,
  success_threshold: 1,
};

/** The CPU and memory an agent reports unless its test moves them. */
export const IDLE_PERCENT = 10;

const fileSource = (path: string | undefined) =>
  path === undefined ? {} : { source: { type: 'file', path } };

/** A complete agent configuration file (YAML flow style, which is JSON). */
export function agentYaml(a: AgentYaml): string {
  const agent = {
    id: a.id,
    region: a.region,
    report_interval: a.report_interval ?? `${AGENT_REPORT_MS}ms`,
    overwatch: { addresses: a.overwatch, token: a.token, ...(a.tls === undefined ? {} : { tls: a.tls }) },
    backends: a.backends.map((b) => ({ ...b, health_check: b.health_check ?? FAST_AGENT_CHECK })),
    predictive: { cpu: fileSource(a.cpu_file), memory: fileSource(a.memory_file) },
  };
  return `agent: ${JSON.stringify(agent)}\nlogging: ${JSON.stringify({ level: a.log_level ?? 'debug' })}\n`;
}

/** One JSON log line of the agent: the level as a label, a constant `msg`, fields beside it. */
export interface AgentLogLine {
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  msg: string;
  err?: unknown;
  [field: string]: unknown;
}

const SEVERITY: Record<AgentLogLine['level'], number> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
  fatal: 5,
};

/** Whether `line` is at `level` or more severe. */
export function atLeast(line: AgentLogLine, level: AgentLogLine['level']): boolean {
  return (SEVERITY[line.level] ?? 0) >= SEVERITY[level];
}

/** An agent process started by `startAgent`. */
export interface RunningAgent {
  id: string;
  proc: ChildProcess;
  configPath: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** The JSON log lines so far, in order (other output skipped). */
  logs(): AgentLogLine[];
  /** Log lines whose `msg` equals `msg`. */
  logged(msg: string): AgentLogLine[];
  /** Resolves with the exit code (or signal name) once the process exits and its output is read. */
  exited: Promise<number | string>;
  signal(sig: NodeJS.Signals): void;
  /** Sends `sig` (default SIGTERM) unless the process already exited, then resolves with the exit code. */
  stop(sig?: NodeJS.Signals): Promise<number | string>;
}

/** What `startAgent` runs. */
export interface StartAgentOptions {
  /** The configuration, or a full YAML text. */
  config: AgentYaml | string;
  /** The agent id, when `config` is a YAML text. */
  id?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

function parseLines(text: string): AgentLogLine[] {
  const out: AgentLogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const v = JSON.parse(line) as unknown;
      if (typeof v === 'object' && v !== null && 'msg' in v && 'level' in v) out.push(v as AgentLogLine);
    } catch {
      // A line cut by a chunk boundary is re-read whole on the next call; anything else is not a log line.
    }
  }
  return out;
}

/**
 * Writes the configuration to a temp dir (removed when the process exits) and spawns the agent; nothing is
 * awaited (use `waitConnected`). The caller stops it (`stop()` or `stopAgents` in `after`).
 */
export function startAgent(opts: StartAgentOptions): RunningAgent {
  const dir = mkdtempSync(join(tmpdir(), 'opengslb-agent-test-'));
  const configPath = join(dir, 'agent.yaml');
  const id = typeof opts.config === 'string' ? (opts.id ?? '') : opts.config.id;
  const idle = (name: string): string => {
    const path = join(dir, name);
    writeFileSync(path, `${IDLE_PERCENT}\n`);
    return path;
  };
  const text =
    typeof opts.config === 'string'
      ? opts.config
      : agentYaml({
          ...opts.config,
          cpu_file: opts.config.cpu_file ?? idle('cpu'),
          memory_file: opts.config.memory_file ?? idle('memory'),
        });
  writeFileSync(configPath, text);
  const proc = spawn(process.execPath, [AGENT_BIN, '--config', configPath, ...(opts.args ?? [])], {
    env: { PATH: process.env['PATH'], ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.on('close', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const logs = (): AgentLogLine[] => parseLines(out);
  return {
    id,
    proc,
    configPath,
    output: () => out,
    logs,
    logged: (msg) => logs().filter((l) => l.msg === msg),
    exited,
    signal: (sig) => {
      proc.kill(sig);
    },
    async stop(sig = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
      return exited;
    },
  };
}

/** Waits until the agent has logged `msg` at least `count` times; throws with its output otherwise. */
export async function waitLogged(
  agent: RunningAgent,
  msg: string,
  timeoutMs: number,
  count = 1,
): Promise<AgentLogLine[]> {
  try {
    return await waitFor(
      `agent ${agent.id} to log "${msg}" ${count} time(s)`,
      () => {
        const found = agent.logged(msg);
        return found.length >= count ? found : undefined;
      },
      timeoutMs,
    );
  } catch (e: unknown) {
    const why = e instanceof Error ? e.message : String(e);
    throw new Error(`${why}\n--- agent output ---\n${agent.output()}`, { cause: e });
  }
}

/** Waits for the agent's Welcome ("connected to overwatch"). */
export function waitConnected(agent: RunningAgent, timeoutMs = 10_000): Promise<AgentLogLine[]> {
  return waitLogged(agent, 'connected to overwatch', timeoutMs);
}

/** Stops every agent that is still running (SIGTERM), for `after` hooks. */
export async function stopAgents(agents: readonly RunningAgent[]): Promise<void> {
  await Promise.all(agents.map((a) => a.stop()));
}

/** Runs `opengslb-agent` to completion (validate, --version); see `runBinary`. */
export function runAgentCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runBinary(AGENT_BIN, args, env);
}

/** A file an agent's `source: {type: file}` reads a percentage from, in its own temp dir. */
export interface SignalFile {
  path: string;
  /** Replaces the value atomically (write a temp file, rename it over `path`): a read never sees it half-written. */
  set(percent: number): void;
  remove(): void;
}

/** A signal file holding `initial`, in a new temp dir (call `remove()` in `after`). */
export function createSignalFile(initial: number): SignalFile {
  const dir = mkdtempSync(join(tmpdir(), 'opengslb-signal-'));
  const path = join(dir, 'value');
  let n = 0;
  const set = (percent: number): void => {
    const tmp = join(dir, `value.${n++}.tmp`);
    writeFileSync(tmp, `${percent}\n`);
    renameSync(tmp, path);
  };
  set(initial);
  return { path, set, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
