/** Runs the real `opengslbctl` binary against a running overwatch. */
import { join } from 'node:path';
import { type CliResult, REPO_ROOT, type RunningOpengslb, runBinary } from './opengslb.js';

export const CTL_BIN = join(REPO_ROOT, 'dist/cmd/opengslbctl/main.js');

/** `opengslbctl --address 127.0.0.1:<grpc> --api http://127.0.0.1:<api> ...args`, to completion. */
export function runCtl(
  run: RunningOpengslb,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  const { grpc, api } = run.ports;
  return runBinary(
    CTL_BIN,
    ['--address', `127.0.0.1:${grpc}`, '--api', `http://127.0.0.1:${api}`, ...args],
    env,
  );
}

/** Runs `opengslbctl ... --json`, asserting exit 0, and parses stdout. */
export async function ctlJson(run: RunningOpengslb, args: string[]): Promise<unknown> {
  const res = await runCtl(run, [...args, '--json']);
  if (res.code !== 0)
    throw new Error(`opengslbctl ${args.join(' ')} --json: exit ${res.code}\n${res.stderr}`);
  return JSON.parse(res.stdout) as unknown;
}

/** The table row (a line of stdout) that mentions `needle`; throws naming the output when none does. */
export function rowOf(stdout: string, needle: string): string {
  const rows = stdout.split('\n').filter((l) => l.includes(needle));
  if (rows.length !== 1) throw new Error(`expected one row with ${needle}, got ${rows.length}:\n${stdout}`);
  return rows[0] as string;
}
