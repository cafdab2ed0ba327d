#!/usr/bin/env node
/** `opengslbctl`: operator CLI. Exit codes: 0 ok, 1 the node could not be reached or answered an error, 2 usage. */
import { parseArgs } from 'node:util';
import { COMMANDS, renderBody } from '../../internal/ctl/commands.js';
import { VERSION } from '../../internal/version/version.js';

const USAGE = `Usage: opengslbctl [--api http://127.0.0.1:8080] [--json] COMMAND

Commands (REST API):
  status     this node's mode, role and leader
  members    cluster members
  servers    health of every configured server
  domains    configured names and how many backends serve each
  backends   every backend with its status and reason

Options:
  --api URL  REST API base URL (default $OPENGSLB_API or http://127.0.0.1:8080)
  --json     print the raw JSON response
  --version, --help`;

function fail(code: 1 | 2, msg: string): never {
  process.stderr.write(`opengslbctl: ${msg}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      options: {
        api: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
        version: { type: 'boolean' },
      },
      allowPositionals: true,
    });
  } catch (e: unknown) {
    fail(2, `${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
  }
  const v = parsed.values;
  if (v['help'] === true) return void process.stdout.write(`${USAGE}\n`);
  if (v['version'] === true) return void process.stdout.write(`opengslbctl ${VERSION}\n`);
  const [name, ...rest] = parsed.positionals;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (command === undefined || rest.length > 0)
    fail(
      2,
      `${name === undefined ? 'missing command' : `unknown command "${[name, ...rest].join(' ')}"`}\n${USAGE}`,
    );
  const base = (
    typeof v['api'] === 'string' ? v['api'] : (process.env['OPENGSLB_API'] ?? 'http://127.0.0.1:8080')
  ).replace(/\/$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}${command.path}`, { signal: AbortSignal.timeout(5000) });
  } catch (e: unknown) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : String(e);
    fail(1, `cannot reach ${base}: ${cause}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    fail(1, `${base}${command.path} answered ${res.status} with a non-JSON body`);
  }
  if (!res.ok) {
    const err = (body as { error?: { message?: string } }).error;
    fail(1, `${base}${command.path}: ${res.status} ${err?.message ?? text.trim()}`);
  }
  process.stdout.write(`${v['json'] === true ? JSON.stringify(body, null, 2) : renderBody(command, body)}\n`);
}

main().catch((e: unknown) => fail(1, `unexpected error: ${e instanceof Error ? e.message : String(e)}`));
