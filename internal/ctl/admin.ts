/**
 * `opengslbctl` commands over the admin gRPC service (opengslb.v1.OverwatchService): each calls one method
 * and renders the answer as a table (or JSON with --json). Times are shown as RFC 3339.
 */

import { type DescMessage, type MessageShape, toJson } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { backendTargetError, parseBackendTarget } from '../config/backend-target.js';
import {
  type ExplainResponse,
  ExplainResponseSchema,
  GetClusterStatusResponseSchema,
  ListAgentsResponseSchema,
  ListBackendsResponseSchema,
  type ListMembersResponse,
  ListMembersResponseSchema,
  ListOverridesResponseSchema,
  OverrideAction,
  type OverwatchService,
  RemoveMemberResponseSchema,
  SetOverrideResponseSchema,
  TransferLeadershipResponseSchema,
  WatchEventsResponseSchema,
} from '../gen/opengslb/v1/admin_pb.js';
import { BackendStatus, PredictiveState, Signal } from '../gen/opengslb/v1/types_pb.js';
import type { CallOptions, ServiceClient } from '../grpc/client.js';
import { durationFromJson } from './duration-json.js';
import { renderTable } from './table.js';

export type AdminClient = ServiceClient<typeof OverwatchService>;

export interface Output {
  json: boolean;
  write(text: string): void;
}

function emit<S extends DescMessage>(
  out: Output,
  schema: S,
  msg: MessageShape<S>,
  render: () => string,
): void {
  out.write(out.json ? JSON.stringify(toJson(schema, msg), null, 2) : render());
}

const statusName = (s: BackendStatus) => (BackendStatus[s] ?? 'UNSPECIFIED').toLowerCase();
const stateName = (s: PredictiveState) => (PredictiveState[s] ?? 'UNSPECIFIED').toLowerCase();
const signalName = (s: Signal) => (Signal[s] ?? 'UNSPECIFIED').toLowerCase();
const target = (r: { address: string; port: number } | undefined) =>
  r === undefined ? '-' : r.address.includes(':') ? `[${r.address}]:${r.port}` : `${r.address}:${r.port}`;

export async function status(c: AdminClient, out: Output, call: CallOptions): Promise<void> {
  const r = await c.getClusterStatus({}, call);
  emit(out, GetClusterStatusResponseSchema, r, () =>
    renderTable(
      ['node', 'mode', 'state', 'leader', 'members', 'term', 'commit', 'version'],
      [
        [
          r.nodeId,
          r.mode,
          r.state,
          r.leaderId,
          r.clusterSize,
          Number(r.term),
          Number(r.commitIndex),
          r.version,
        ],
      ],
    ),
  );
}

/** The members table: identity, role and every service address ('-' when a member did not advertise one). */
export function renderMembers(r: ListMembersResponse): string {
  const or = (a: string) => (a === '' ? '-' : a);
  return renderTable(
    ['id', 'state', 'voter', 'raft', 'gossip', 'grpc', 'api', 'dns'],
    r.members.map((m) => [
      m.id,
      m.state,
      m.isVoter,
      or(m.address),
      or(m.gossipAddress),
      or(m.grpcAddress),
      or(m.apiAddress),
      or(m.dnsAddress),
    ]),
  );
}

export async function members(c: AdminClient, out: Output, call: CallOptions): Promise<void> {
  const r = await c.listMembers({}, call);
  emit(out, ListMembersResponseSchema, r, () => renderMembers(r));
}

/** `members remove N`: any node forwards to the leader; answers once the removal is applied there. */
export async function removeMember(
  c: AdminClient,
  out: Output,
  call: CallOptions,
  id: string,
): Promise<void> {
  const r = await c.removeMember({ nodeId: id }, call);
  emit(
    out,
    RemoveMemberResponseSchema,
    r,
    () => `removed ${id} from the cluster; leader: ${r.leaderId || '-'}`,
  );
}

/** `transfer-leader [NODE]`: any member (forwarded to the leader); an empty target picks the most up-to-date voter. */
export async function transferLeader(
  c: AdminClient,
  out: Output,
  call: CallOptions,
  target: string,
): Promise<void> {
  const r = await c.transferLeadership({ target }, call);
  emit(out, TransferLeadershipResponseSchema, r, () => `leader is now ${r.newLeaderId}`);
}

export async function backends(
  c: AdminClient,
  out: Output,
  call: CallOptions,
  service: string,
): Promise<void> {
  const r = await c.listBackends({ service }, call);
  emit(out, ListBackendsResponseSchema, r, () =>
    renderTable(
      ['service', 'backend', 'region', 'weight', 'effective', 'status', 'agent', 'reason'],
      r.backends.map((b) => [
        b.ref?.service,
        target(b.ref),
        b.region,
        b.weight,
        b.effectiveWeight,
        statusName(b.status),
        b.agentId,
        b.reason,
      ]),
    ),
  );
}

export async function agents(c: AdminClient, out: Output, call: CallOptions): Promise<void> {
  const r = await c.listAgents({}, call);
  emit(out, ListAgentsResponseSchema, r, () =>
    renderTable(
      ['agent', 'region', 'connected', 'last seen', 'backends', 'signals'],
      r.agents.map((a) => [
        a.id,
        a.region,
        a.connected,
        a.lastSeen === undefined ? '' : timestampDate(a.lastSeen).toISOString(),
        a.backends.map(target).join(','),
        a.signals
          .map((s) => `${signalName(s.signal)}=${s.value.toFixed(1)}(${stateName(s.state)})`)
          .join(' '),
      ]),
    ),
  );
}

/** One screen: the answer, then every backend with why it is in or out. */
export function renderExplain(name: string, qtype: string, client: string, r: ExplainResponse): string {
  const head = [
    `${name} ${qtype}${client === '' ? '' : ` for client ${client}`}: ${r.rcode}${r.answers.length > 0 ? ` -> ${r.answers.join(', ')}` : ''}${r.ttl > 0 ? ` (ttl ${r.ttl})` : ''}`,
    `routing: ${r.routingAlgorithm || '-'}; ${r.summary}`,
    '',
  ];
  const table = renderTable(
    ['backend', 'status', 'weight', 'effective', 'eligible', 'why'],
    r.backends.map((b) => [
      target(b.ref),
      statusName(b.status),
      b.weight,
      b.effectiveWeight,
      b.eligible,
      b.reasons.join('; '),
    ]),
  );
  return [...head, table].join('\n');
}

export async function explain(
  c: AdminClient,
  out: Output,
  call: CallOptions,
  req: { name: string; qtype: string; client: string },
): Promise<void> {
  const r = await c.explain({ name: req.name, qtype: req.qtype, clientAddress: req.client }, call);
  emit(out, ExplainResponseSchema, r, () => renderExplain(req.name, req.qtype, req.client, r));
}

export async function events(c: AdminClient, out: Output, call: CallOptions, follow: boolean): Promise<void> {
  // Without --follow: the retained trail, then exit; with it: new events as they happen.
  const stream = c.watchEvents(follow ? { since: '', follow: true } : { since: '0', follow: false }, call);
  for await (const r of stream) {
    const e = r.event;
    if (e === undefined) continue;
    if (out.json) out.write(JSON.stringify(toJson(WatchEventsResponseSchema, r)));
    else {
      const when = e.time === undefined ? '' : timestampDate(e.time).toISOString();
      out.write(
        `${when} ${target(e.backend)} ${statusName(e.from)} -> ${statusName(e.to)} [${e.source}] ${e.reason}`,
      );
    }
  }
}

const ACTIONS: Record<string, OverrideAction> = {
  force_healthy: OverrideAction.FORCE_HEALTHY,
  force_unhealthy: OverrideAction.FORCE_UNHEALTHY,
  drain: OverrideAction.DRAIN,
};

export async function overrideSet(
  c: AdminClient,
  out: Output,
  call: CallOptions,
  req: { service: string; target: string; action: string; reason: string; ttl: string; user: string },
): Promise<void> {
  const t = parseBackendTarget(req.target);
  if (t === undefined) throw new Error(backendTargetError(req.target));
  const action = ACTIONS[req.action];
  if (action === undefined)
    throw new Error(
      `action must be one of ${Object.keys(ACTIONS).join(', ')} (got ${JSON.stringify(req.action)})`,
    );
  const ttl = req.ttl === '' ? undefined : durationFromJson(req.ttl);
  const r = await c.setOverride(
    {
      backend: { service: req.service, ...t },
      action,
      reason: req.reason,
      user: req.user,
      ...(ttl === undefined ? {} : { ttl }),
    },
    call,
  );
  emit(
    out,
    SetOverrideResponseSchema,
    r,
    () =>
      `override set: ${req.service} ${req.target} ${req.action}${req.ttl === '' ? '' : ` for ${req.ttl}`}`,
  );
}

export async function overrideClear(
  c: AdminClient,
  out: Output,
  call: CallOptions,
  req: { service: string; target: string; user: string },
): Promise<void> {
  const t = parseBackendTarget(req.target);
  if (t === undefined) throw new Error(backendTargetError(req.target));
  await c.clearOverride({ backend: { service: req.service, ...t }, user: req.user }, call);
  out.write(out.json ? '{}' : `override cleared: ${req.service} ${req.target}`);
}

export async function overrideList(c: AdminClient, out: Output, call: CallOptions): Promise<void> {
  const r = await c.listOverrides({}, call);
  emit(out, ListOverridesResponseSchema, r, () =>
    renderTable(
      ['service', 'backend', 'action', 'user', 'reason', 'created', 'expires'],
      r.overrides.map((o) => [
        o.backend?.service,
        target(o.backend),
        (OverrideAction[o.action] ?? '').toLowerCase(),
        o.user,
        o.reason,
        o.created === undefined ? '' : timestampDate(o.created).toISOString(),
        o.expires === undefined ? 'never' : timestampDate(o.expires).toISOString(),
      ]),
    ),
  );
}
