/**
 * `opengslbctl` commands over the REST API: each fetches one endpoint and renders it as a table (or the raw
 * JSON with --json). Admin gRPC commands (agents, events, explain, overrides) arrive with issue #3.
 */
import { type Cell, renderTable } from './table.js';

interface Command {
  path: string;
  /** The named list in the response body, and the columns to show from each item. */
  list?: { key: string; columns: string[] };
}

export const COMMANDS: Record<string, Command> = {
  status: { path: '/api/v1/cluster/status' },
  members: {
    path: '/api/v1/cluster/members',
    list: { key: 'members', columns: ['id', 'address', 'state', 'is_voter'] },
  },
  servers: {
    path: '/api/v1/health/servers',
    list: {
      key: 'servers',
      columns: ['region', 'address', 'port', 'healthy', 'consecutive_failures', 'rtt_ms', 'last_error'],
    },
  },
  domains: {
    path: '/api/v1/domains',
    list: {
      key: 'domains',
      columns: ['name', 'routing_algorithm', 'ttl', 'healthy_backends', 'total_backends'],
    },
  },
  backends: {
    path: '/api/v1/backends',
    list: {
      key: 'backends',
      columns: ['service', 'target', 'region', 'weight', 'effective_weight', 'status', 'reason'],
    },
  },
};

/** Renders a response body for a command: a table for lists, `key: value` lines for an object. */
export function renderBody(command: Command, body: unknown): string {
  if (typeof body !== 'object' || body === null) return String(body);
  const record = body as Record<string, unknown>;
  if (command.list !== undefined) {
    const items = Array.isArray(record[command.list.key])
      ? (record[command.list.key] as Array<Record<string, unknown>>)
      : [];
    return renderTable(
      command.list.columns,
      items.map((it) => command.list?.columns.map((c) => it[c] as Cell) ?? []),
    );
  }
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  return Object.entries(record)
    .map(
      ([k, v]) =>
        `${`${k}:`.padEnd(width + 2)}${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`,
    )
    .join('\n');
}
