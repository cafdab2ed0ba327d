#!/usr/bin/env node
/** `opengslbctl`: operator CLI. Exit codes: 0 ok, 1 the node could not be reached or answered an error, 2 usage. */
import { parseArgs } from 'node:util';
import * as admin from '../../internal/ctl/admin.js';
import { COMMANDS, renderBody } from '../../internal/ctl/commands.js';
import { OverwatchService } from '../../internal/gen/opengslb/v1/admin_pb.js';
import { createClient } from '../../internal/grpc/client.js';
import { channelCredentials } from '../../internal/grpc/credentials.js';
import { GrpcError } from '../../internal/grpc/grpc-error.js';
import { VERSION } from '../../internal/version/version.js';

const USAGE = `Usage: opengslbctl [options] COMMAND

Commands (admin gRPC, --address):
  status                       this node's mode, role, leader and version
  members                      cluster members and their addresses
  members remove NODE          remove NODE from the cluster configuration (any member forwards to the
                               leader; the leader itself hands leadership over first)
  transfer-leader [NODE]       hand leadership to NODE, or to the most up-to-date voter (any member
                               forwards to the leader); waits until the new leader leads
  backends [SERVICE]           every backend with its status and the reason
  agents                       connected agents and their predictive signals
  explain NAME [--client IP] [--qtype A|AAAA]
                               the answer for NAME and why each backend is in or out
  events [--follow]            decision events (health, predictive, veto, override)
  override set SERVICE TARGET ACTION [--reason R] [--ttl 30m] [--user U]
                               ACTION: force_healthy | force_unhealthy | drain; TARGET: addr:port or [v6]:port
  override clear SERVICE TARGET [--user U]
  override list
Commands (REST, --api):
  servers                      health-check state of every configured server
  domains                      configured names and how many backends serve each

Options:
  --address HOST:PORT  admin gRPC address (default $OPENGSLB_ADDRESS or 127.0.0.1:9443)
  --token TOKEN        admin token (default $OPENGSLB_ADMIN_TOKEN), sent as authorization: Bearer
  --ca-file F, --cert-file F, --key-file F, --server-name N, --tls
                       TLS / mutual TLS to the gRPC port
  --api URL            REST base URL (default $OPENGSLB_API or http://127.0.0.1:8080)
  --json               print JSON instead of tables
  --timeout MS         deadline per call (default 5000; --follow has none)
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
        address: { type: 'string' },
        token: { type: 'string' },
        'ca-file': { type: 'string' },
        'cert-file': { type: 'string' },
        'key-file': { type: 'string' },
        'server-name': { type: 'string' },
        tls: { type: 'boolean' },
        api: { type: 'string' },
        json: { type: 'boolean' },
        timeout: { type: 'string' },
        client: { type: 'string' },
        qtype: { type: 'string' },
        follow: { type: 'boolean' },
        reason: { type: 'string' },
        ttl: { type: 'string' },
        user: { type: 'string' },
        help: { type: 'boolean' },
        version: { type: 'boolean' },
      },
      allowPositionals: true,
    });
  } catch (e: unknown) {
    fail(2, `${e instanceof Error ? e.message : String(e)}\nrun "opengslbctl --help" for usage`);
  }
  const v = parsed.values;
  const str = (k: string): string => (typeof v[k] === 'string' ? (v[k] as string) : '');
  if (v['help'] === true) return void process.stdout.write(`${USAGE}\n`);
  if (v['version'] === true) return void process.stdout.write(`opengslbctl ${VERSION}\n`);
  const [command, ...args] = parsed.positionals;
  const out = { json: v['json'] === true, write: (t: string) => process.stdout.write(`${t}\n`) };

  const rest = command === undefined ? undefined : COMMANDS[command];
  if (command === 'servers' || command === 'domains') {
    if (rest === undefined || args.length > 0) fail(2, `usage: opengslbctl ${command}`);
    const base = (str('api') || process.env['OPENGSLB_API'] || 'http://127.0.0.1:8080').replace(/\/$/, '');
    let res: Response;
    try {
      res = await fetch(`${base}${rest.path}`, { signal: AbortSignal.timeout(5000) });
    } catch (e: unknown) {
      fail(
        1,
        `cannot reach ${base}: ${e instanceof Error && e.cause instanceof Error ? e.cause.message : String(e)}`,
      );
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (!res.ok || body === undefined) fail(1, `${base}${rest.path}: HTTP ${res.status}`);
    return void out.write(out.json ? JSON.stringify(body, null, 2) : renderBody(rest, body));
  }

  const known = [
    'status',
    'members',
    'backends',
    'agents',
    'explain',
    'events',
    'override',
    'transfer-leader',
  ];
  if (command === undefined || !known.includes(command)) {
    fail(
      2,
      `${command === undefined ? 'missing command' : `unknown command "${command}"`}\nrun "opengslbctl --help" for usage`,
    );
  }
  const overrideArity: Record<string, number> = { set: 4, clear: 3, list: 1 };
  if (command === 'override' && overrideArity[args[0] ?? ''] !== args.length) {
    fail(2, 'usage: opengslbctl override set SERVICE TARGET ACTION | clear SERVICE TARGET | list');
  }
  if (command === 'members' && args.length > 0 && (args[0] !== 'remove' || args.length !== 2)) {
    fail(2, 'usage: opengslbctl members [remove NODE]');
  }
  const maxArgs =
    command === 'explain' || command === 'backends' || command === 'transfer-leader'
      ? 1
      : command === 'override'
        ? 4
        : command === 'members'
          ? 2
          : 0;
  if (args.length > maxArgs || (command === 'explain' && args.length !== 1)) {
    fail(
      2,
      command === 'explain'
        ? 'usage: opengslbctl explain NAME [--client IP] [--qtype A|AAAA]'
        : `unexpected argument "${args[maxArgs]}"`,
    );
  }
  const address = str('address') || process.env['OPENGSLB_ADDRESS'] || '127.0.0.1:9443';
  let setup: ReturnType<typeof channelCredentials>;
  try {
    setup = channelCredentials({
      tls: v['tls'] === true,
      caFile: str('ca-file'),
      certFile: str('cert-file'),
      keyFile: str('key-file'),
      serverName: str('server-name'),
    });
  } catch (e: unknown) {
    fail(2, e instanceof Error ? e.message : String(e));
  }
  const client = createClient(OverwatchService, address, setup.credentials, setup.options);
  const token = str('token') || process.env['OPENGSLB_ADMIN_TOKEN'] || '';
  const timeoutMs = str('timeout') === '' ? 5000 : Number(str('timeout'));
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
    fail(2, `--timeout: must be a positive number of ms (got ${str('timeout')})`);
  const follow = v['follow'] === true;
  const call = {
    ...(token === '' ? {} : { metadata: { authorization: `Bearer ${token}` } }),
    ...(command === 'events' && follow ? {} : { timeoutMs }),
  };
  try {
    switch (command) {
      case 'status':
        return await admin.status(client, out, call);
      case 'members':
        if (args[0] === 'remove') return await admin.removeMember(client, out, call, args[1] ?? '');
        return await admin.members(client, out, call);
      case 'transfer-leader':
        return await admin.transferLeader(client, out, call, args[0] ?? '');
      case 'backends':
        return await admin.backends(client, out, call, args[0] ?? '');
      case 'agents':
        return await admin.agents(client, out, call);
      case 'explain':
        return await admin.explain(client, out, call, {
          name: args[0] ?? '',
          qtype: (str('qtype') || 'A').toUpperCase(),
          client: str('client'),
        });
      case 'events':
        return await admin.events(client, out, call, follow);
      case 'override': {
        const user = str('user') || process.env['USER'] || '';
        if (args[0] === 'list') return await admin.overrideList(client, out, call);
        if (args[0] === 'clear')
          return await admin.overrideClear(client, out, call, {
            service: args[1] ?? '',
            target: args[2] ?? '',
            user,
          });
        return await admin.overrideSet(client, out, call, {
          service: args[1] ?? '',
          target: args[2] ?? '',
          action: args[3] ?? '',
          reason: str('reason'),
          ttl: str('ttl'),
          user,
        });
      }
    }
  } catch (e: unknown) {
    if (e instanceof GrpcError) fail(1, `${address}: ${e.toString()}`);
    if (e instanceof Error) fail(2, e.message);
    throw e;
  } finally {
    client.$close();
  }
}

main().catch((e: unknown) => fail(1, `unexpected error: ${e instanceof Error ? e.message : String(e)}`));
