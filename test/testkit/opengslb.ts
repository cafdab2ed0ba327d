/**
 * Runs the real `opengslb` binary (built JavaScript) as a child process on loopback ports, and talks to it
 * with real clients: DNS over UDP/TCP, HTTP for REST and metrics, signals for lifecycle.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type dnsPacket from 'dns-packet';
import { queryTcp, queryUdp } from '../../internal/dns/client.js';
import { freePorts } from './ports.js';
import { waitFor } from './wait.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const OPENGSLB_BIN = join(REPO_ROOT, 'dist/cmd/opengslb/main.js');

export interface Ports {
  dns: number;
  api: number;
  metrics: number;
  grpc: number;
}

/** Four distinct free ports on 127.0.0.1. */
export async function allocatePorts(): Promise<Ports> {
  const [dns, api, metrics, grpc] = (await freePorts(4)) as [number, number, number, number];
  return { dns, api, metrics, grpc };
}

/**
 * The listener part of a config: every address on 127.0.0.1 at the given ports. `extraApi` and `extraGrpc` are
 * lines inside the `api:` and `grpc:` blocks, indented two spaces.
 */
export function listenersYaml(p: Ports, extraApi = '', extraGrpc = ''): string {
  return `
dns:
  listen_address: "127.0.0.1:${p.dns}"
  default_ttl: 30
metrics:
  address: "127.0.0.1:${p.metrics}"
api:
  address: "127.0.0.1:${p.api}"
${extraApi}
grpc:
  address: "127.0.0.1:${p.grpc}"
${extraGrpc}
logging:
  level: debug
`;
}

export interface RunningOpengslb {
  ports: Ports;
  proc: ChildProcess;
  configPath: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process exits. */
  exited: Promise<number | string>;
  udp(name: string, type?: string): Promise<dnsPacket.DecodedPacket>;
  tcp(name: string, type?: string): Promise<dnsPacket.DecodedPacket>;
  /** A records (or AAAA) of one UDP answer, sorted; throws on a non-NOERROR answer. */
  addresses(name: string, type?: 'A' | 'AAAA'): Promise<string[]>;
  api(path: string, init?: RequestInit): Promise<{ status: number; body: unknown }>;
  metrics(): Promise<string>;
  writeConfig(yaml: string): void;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | string>;
}

export interface StartOptions {
  /**
   * Full YAML (use `listenersYaml(ports)` for the listener part), or a function of the ports. With a function,
   * a port another process takes between allocation and bind (EADDRINUSE at startup) is retried with fresh ports.
   */
  config: string | ((ports: Ports) => string);
  /** The ports the config uses; required with a string config, allocated when absent. */
  ports?: Ports;
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /**
   * Wait for /api/v1/ready (default true). With false, wait only until every listener is bound (the
   * `listeners started` log line, so the config must log at info or below).
   */
  waitReady?: boolean;
  /**
   * `--data-dir` to use and keep: the caller creates it (`createDataDir`) and removes it, so a restart with the
   * same directory continues from the decision log. Default: a fresh directory removed when the process exits.
   * `null`: no `--data-dir` flag at all (the config or `OPENGSLB_CLUSTER_RAFT_DATA_DIR` names it).
   */
  dataDir?: string | null;
}

/** A data directory that outlives one process, for restart tests; `remove()` it in `after`. */
export interface DataDir {
  path: string;
  remove(): void;
}

/** A new empty temp directory to pass as `StartOptions.dataDir` to several `startOpengslb` calls in turn. */
export function createDataDir(): DataDir {
  const path = mkdtempSync(join(tmpdir(), 'opengslb-data-'));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Startup attempts with fresh ports when a function config loses a port race. */
const PORT_RACE_ATTEMPTS = 3;
const STARTUP_TIMEOUT_MS = 15_000;

/** Startup failed because a listener port was in use; the output is in the message. */
class PortTakenError extends Error {}

/** What a command run to completion left behind. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a built entry point (`dist/cmd/.../main.js`) to completion with only PATH and `env` in its environment.
 * A process still running after `timeoutMs` is killed and reported with code null and `timedOut`, so a product
 * bug cannot hang the test.
 */
export function runBinary(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  timeoutMs = 10_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env['PATH'], ...env },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, timeoutMs);
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // 'close', not 'exit': only then has all of stdout and stderr been read.
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });
}

/** Runs the `opengslb` binary to completion (validate, --version, a failing start); see `runBinary`. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 10_000): Promise<CliResult> {
  return runBinary(OPENGSLB_BIN, args, env, timeoutMs);
}

/** Writes the config to a temp dir and starts the binary; registers nothing globally (call stop()). */
export async function startOpengslb(opts: StartOptions): Promise<RunningOpengslb> {
  const { config } = opts;
  if (typeof config === 'string') {
    if (opts.ports === undefined) throw new Error('startOpengslb: a string config needs the ports it uses');
    return startOnce(config, opts.ports, opts);
  }
  for (let attempt = 1; ; attempt++) {
    const ports = opts.ports !== undefined && attempt === 1 ? opts.ports : await allocatePorts();
    try {
      return await startOnce(config(ports), ports, opts);
    } catch (e: unknown) {
      if (!(e instanceof PortTakenError) || attempt >= PORT_RACE_ATTEMPTS) throw e;
    }
  }
}

async function startOnce(yaml: string, p: Ports, opts: StartOptions): Promise<RunningOpengslb> {
  const dir = mkdtempSync(join(tmpdir(), 'opengslb-test-'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, yaml);
  const proc = spawn(
    process.execPath,
    [
      OPENGSLB_BIN,
      '--config',
      configPath,
      ...(opts.dataDir === null ? [] : ['--data-dir', opts.dataDir ?? join(dir, 'data')]),
      ...(opts.args ?? []),
    ],
    { env: { PATH: process.env['PATH'], ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    // 'close', not 'exit': only then has all of the output been read.
    proc.on('close', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const running: RunningOpengslb = {
    ports: p,
    proc,
    configPath,
    output: () => out,
    exited,
    udp: (name, type = 'A') => queryUdp('127.0.0.1', p.dns, name, type, { timeoutMs: 2000 }),
    tcp: (name, type = 'A') => queryTcp('127.0.0.1', p.dns, name, type, { timeoutMs: 2000 }),
    async addresses(name, type = 'A') {
      const r = await queryUdp('127.0.0.1', p.dns, name, type, { timeoutMs: 2000 });
      if (rcodeOf(r) !== 'NOERROR') throw new Error(`${name} ${type}: rcode ${rcodeOf(r)}`);
      return answerData(r, type).sort();
    },
    async api(path, init) {
      const res = await fetch(`http://127.0.0.1:${p.api}${path}`, init);
      const text = await res.text();
      return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
    },
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${p.metrics}/metrics`);
      return res.text();
    },
    writeConfig: (yaml) => writeFileSync(configPath, yaml),
    signal: (sig) => {
      proc.kill(sig);
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
  const waitReady = opts.waitReady !== false;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const started = waitFor(
    waitReady ? 'opengslb /api/v1/ready' : 'opengslb listeners started',
    async () => {
      if (gone) return false; // ends the polling; `early` below reports the exit
      if (!waitReady) return out.includes('listeners started') ? true : undefined;
      return (await running.api('/api/v1/ready')).status === 200 ? true : undefined;
    },
    STARTUP_TIMEOUT_MS,
  );
  // An exit during startup ends the wait at once instead of at the deadline.
  const early = exited.then((code) => {
    const message = `opengslb exited with ${code} during startup`;
    throw out.includes('EADDRINUSE') ? new PortTakenError(message) : new Error(message);
  });
  try {
    await Promise.race([started, early]);
  } catch (e: unknown) {
    await running.stop();
    const message = `${e instanceof Error ? e.message : String(e)}\n--- opengslb output ---\n${out}`;
    throw e instanceof PortTakenError ? new PortTakenError(message) : new Error(message, { cause: e });
  }
  return running;
}

/** The value of one sample line of a metric in Prometheus text, e.g. `name{a="b"}`; undefined if absent. */
export function metricValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/** The response code dns-packet decoded (its type definitions omit the field). */
export function rcodeOf(p: dnsPacket.DecodedPacket): string {
  return (p as { rcode?: string }).rcode ?? 'UNKNOWN';
}

/** The data of every answer record of one type, as strings, in answer order. */
export function answerData(p: dnsPacket.DecodedPacket, type: string): string[] {
  return (p.answers ?? []).filter((a) => a.type === type).map((a) => String((a as { data?: unknown }).data));
}
