/**
 * The replicated state machine (DESIGN.md section 4): backend decisions, operator overrides, agent
 * registrations and the bounded audit trail. Deterministic: `apply` reads no clock (times come from the
 * command), no randomness, no I/O, so every node applying the same log reaches the same state.
 *
 * Commands carry a format version; a command this build does not understand (newer version, or a command
 * kind it cannot see) throws `UnsupportedCommandError` and the caller must stop applying rather than diverge.
 */
import { create, fromBinary, type MessageInitShape, toBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { OverrideAction } from '../internal/gen/opengslb/v1/admin_pb.js';
import {
  BackendDecisionSchema,
  type Command,
  CommandSchema,
  FsmSnapshotSchema,
  type BackendDecision as WireDecision,
} from '../internal/gen/opengslb/v1/fsm_pb.js';
import { BackendStatus } from '../internal/gen/opengslb/v1/types_pb.js';
import type { BackendStatusName } from './backend-status.js';
import { formatTarget } from './backends.js';
import { timestampFromDate } from './proto-convert.js';

/** The command format this build writes and understands. */
export const COMMAND_VERSION = 1;
/** Audit trail length kept in the state machine (and in snapshots). */
export const MAX_EVENTS = 1000;

export class UnsupportedCommandError extends Error {
  readonly code = 'UNSUPPORTED_COMMAND';
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedCommandError';
  }
}

export type OverrideActionName = 'force_healthy' | 'force_unhealthy' | 'drain';
export type EventSource =
  | 'override'
  | 'veto'
  | 'agent'
  | 'predictive'
  | 'external'
  | 'stale'
  | 'panic'
  | 'config';

export interface BackendId {
  service: string;
  address: string;
  port: number;
}

export interface Decision extends BackendId {
  status: BackendStatusName;
  /** Share of the configured weight in answers, 0..1. */
  weightFraction: number;
  reason: string;
  source: string;
  /** Start of the current ramp (bleed or slow start) in ms since the epoch, with the fraction it started at. */
  rampStartMs: number | undefined;
  rampFrom: number;
  /** When status or weight last changed (command time). */
  changedMs: number;
  details: Record<string, string>;
}

export interface OverrideRecord extends BackendId {
  action: OverrideActionName;
  reason: string;
  user: string;
  createdMs: number;
  expiresMs: number | undefined;
}

export interface AgentRegistration {
  id: string;
  region: string;
  backends: Array<
    BackendId & {
      weight: number;
      check: { type: string; path: string; host: string; expectedStatus: string };
    }
  >;
  tokenFingerprint: string;
}

export interface EventRecord {
  id: number;
  timeMs: number;
  service: string;
  /** `address:port` ([v6]:port), or '' for service-wide events. */
  backend: string;
  from: BackendStatusName | '';
  to: BackendStatusName | '';
  reason: string;
  source: string;
  details: Record<string, string>;
}

export interface FsmState {
  decisions: Map<string, Decision>;
  overrides: Map<string, OverrideRecord>;
  agents: Map<string, AgentRegistration>;
  events: EventRecord[];
  nextEventId: number;
}

export interface Fsm {
  /** Applies one committed command; returns the events it appended. Throws UnsupportedCommandError. */
  apply(cmd: Command): EventRecord[];
  state(): Readonly<FsmState>;
  snapshot(): Uint8Array;
  restore(bytes: Uint8Array): void;
}

/** `service|address:port`, the key of decisions and overrides. */
export function idKey(b: BackendId): string {
  return `${b.service}|${b.address}:${b.port}`;
}

const STATUS_FROM_WIRE = new Map<BackendStatus, BackendStatusName>([
  [BackendStatus.HEALTHY, 'healthy'],
  [BackendStatus.DRAINING, 'draining'],
  [BackendStatus.VETOED, 'vetoed'],
  [BackendStatus.UNHEALTHY, 'unhealthy'],
  [BackendStatus.STALE, 'stale'],
  [BackendStatus.UNKNOWN, 'unknown'],
]);
const STATUS_TO_WIRE = new Map([...STATUS_FROM_WIRE].map(([k, v]) => [v, k]));
export const ACTION_FROM_WIRE = new Map<OverrideAction, OverrideActionName>([
  [OverrideAction.FORCE_HEALTHY, 'force_healthy'],
  [OverrideAction.FORCE_UNHEALTHY, 'force_unhealthy'],
  [OverrideAction.DRAIN, 'drain'],
]);
export const ACTION_TO_WIRE = new Map([...ACTION_FROM_WIRE].map(([k, v]) => [v, k]));

const ms = (t: { seconds: bigint; nanos: number } | undefined): number | undefined =>
  t === undefined ? undefined : timestampDate(t as Parameters<typeof timestampDate>[0]).getTime();

function decisionFromWire(d: WireDecision, changedMs: number): Decision {
  const b = d.backend;
  return {
    service: b?.service ?? '',
    address: b?.address ?? '',
    port: b?.port ?? 0,
    status: STATUS_FROM_WIRE.get(d.status) ?? 'unknown',
    weightFraction: Math.min(1, Math.max(0, d.weightFraction)),
    reason: d.reason,
    source: d.source,
    rampStartMs: ms(d.rampStart),
    rampFrom: d.rampFrom,
    changedMs,
    details: { ...d.details },
  };
}

export function decisionToWire(d: Decision): WireDecision {
  return create(BackendDecisionSchema, {
    backend: { service: d.service, address: d.address, port: d.port },
    status: STATUS_TO_WIRE.get(d.status) ?? BackendStatus.UNKNOWN,
    weightFraction: d.weightFraction,
    reason: d.reason,
    source: d.source,
    ...(d.rampStartMs === undefined ? {} : { rampStart: timestampFromDate(new Date(d.rampStartMs)) }),
    rampFrom: d.rampFrom,
    details: d.details,
  });
}

/**
 * Snapshot-only details key carrying `changedMs`, which BackendDecision has no field for; restore strips it, so
 * it never shows in a decision. (Events carry their extra fields the same way.)
 */
const CHANGED_KEY = '__changed_ms';

function emptyState(): FsmState {
  return { decisions: new Map(), overrides: new Map(), agents: new Map(), events: [], nextEventId: 1 };
}

export function createFsm(): Fsm {
  let s = emptyState();

  const record = (e: Omit<EventRecord, 'id'>): EventRecord => {
    const event = { ...e, id: s.nextEventId };
    s.nextEventId += 1;
    s.events.push(event);
    if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
    return event;
  };

  function apply(cmd: Command): EventRecord[] {
    if (cmd.version !== COMMAND_VERSION) {
      throw new UnsupportedCommandError(
        `command format version ${cmd.version} is not supported by this build (supports ${COMMAND_VERSION}); upgrade this node`,
      );
    }
    const now = ms(cmd.time) ?? 0;
    const c = cmd.command;
    switch (c.case) {
      case 'setBackend': {
        const d = c.value.decision;
        if (d?.backend === undefined) return [];
        const next = decisionFromWire(d, now);
        const key = idKey(next);
        const prev = s.decisions.get(key);
        const changed =
          prev === undefined ||
          prev.status !== next.status ||
          Math.abs(prev.weightFraction - next.weightFraction) > 1e-9;
        if (!changed && prev !== undefined) next.changedMs = prev.changedMs;
        s.decisions.set(key, next);
        if (!changed) return [];
        return [
          record({
            timeMs: now,
            service: next.service,
            backend: formatTarget(next.address, next.port),
            from: prev?.status ?? '',
            to: next.status,
            reason: next.reason,
            source: next.source,
            details: { weight_fraction: next.weightFraction.toFixed(2), ...next.details },
          }),
        ];
      }
      case 'removeBackend': {
        const b = c.value.backend;
        if (b === undefined) return [];
        const key = idKey(b);
        const prev = s.decisions.get(key);
        s.decisions.delete(key);
        if (prev === undefined) return [];
        return [
          record({
            timeMs: now,
            service: b.service,
            backend: formatTarget(b.address, b.port),
            from: prev.status,
            to: '',
            reason: c.value.reason,
            source: 'config',
            details: {},
          }),
        ];
      }
      case 'setOverride': {
        const o = c.value.override;
        const b = o?.backend;
        const action = o === undefined ? undefined : ACTION_FROM_WIRE.get(o.action);
        if (o === undefined || b === undefined || action === undefined) return [];
        const rec: OverrideRecord = {
          service: b.service,
          address: b.address,
          port: b.port,
          action,
          reason: o.reason,
          user: o.user,
          createdMs: ms(o.created) ?? now,
          expiresMs: ms(o.expires),
        };
        s.overrides.set(idKey(rec), rec);
        return [
          record({
            timeMs: now,
            service: b.service,
            backend: formatTarget(b.address, b.port),
            from: '',
            to: '',
            reason: `override ${action} by ${o.user || 'unknown'}: ${o.reason}`,
            source: 'override',
            details: {
              action,
              user: o.user,
              ...(rec.expiresMs === undefined ? {} : { expires: new Date(rec.expiresMs).toISOString() }),
            },
          }),
        ];
      }
      case 'clearOverride': {
        const b = c.value.backend;
        if (b === undefined || !s.overrides.delete(idKey(b))) return [];
        return [
          record({
            timeMs: now,
            service: b.service,
            backend: formatTarget(b.address, b.port),
            from: '',
            to: '',
            reason:
              c.value.reason === 'expired'
                ? 'override expired'
                : `override cleared by ${c.value.user || 'unknown'}`,
            source: 'override',
            details: { user: c.value.user },
          }),
        ];
      }
      case 'registerAgent': {
        const a = c.value;
        s.agents.set(a.agentId, {
          id: a.agentId,
          region: a.region,
          tokenFingerprint: a.tokenFingerprint,
          backends: a.backends.map((b) => ({
            service: b.ref?.service ?? '',
            address: b.ref?.address ?? '',
            port: b.ref?.port ?? 0,
            weight: b.weight,
            check: {
              type: b.healthCheck?.type ?? 'http',
              path: b.healthCheck?.path ?? '/health',
              host: b.healthCheck?.host ?? '',
              expectedStatus: b.healthCheck?.expectedStatus ?? '',
            },
          })),
        });
        return [];
      }
      case 'deregisterAgent': {
        const a = s.agents.get(c.value.agentId);
        if (a === undefined) return [];
        s.agents.delete(a.id);
        const events: EventRecord[] = [];
        for (const b of a.backends) {
          // A backend still announced by another agent or the configuration keeps its decision; the
          // caller's next decide() pass settles it.
          const stillAnnounced = [...s.agents.values()].some((o) =>
            o.backends.some((x) => idKey(x) === idKey(b)),
          );
          if (stillAnnounced) continue;
          const prev = s.decisions.get(idKey(b));
          if (prev === undefined) continue;
          s.decisions.delete(idKey(b));
          events.push(
            record({
              timeMs: now,
              service: b.service,
              backend: formatTarget(b.address, b.port),
              from: prev.status,
              to: '',
              reason: `agent ${a.id} deregistered: ${c.value.reason}`,
              source: 'agent',
              details: {},
            }),
          );
        }
        return events;
      }
      case 'appendEvent': {
        const e = c.value.event;
        if (e === undefined) return [];
        return [
          record({
            timeMs: now,
            service: e.backend?.service ?? '',
            backend:
              e.backend === undefined || e.backend.address === ''
                ? ''
                : formatTarget(e.backend.address, e.backend.port),
            from: STATUS_FROM_WIRE.get(e.from) ?? '',
            to: STATUS_FROM_WIRE.get(e.to) ?? '',
            reason: e.reason,
            source: e.source,
            details: { ...e.details },
          }),
        ];
      }
      default:
        throw new UnsupportedCommandError(
          'command of an unknown kind (written by a newer version?); this node stops applying instead of diverging',
        );
    }
  }

  return {
    apply,
    state: () => s,
    snapshot() {
      return toBinary(
        FsmSnapshotSchema,
        create(FsmSnapshotSchema, {
          version: COMMAND_VERSION,
          decisions: [...s.decisions.values()].map((d) =>
            decisionToWire({ ...d, details: { ...d.details, [CHANGED_KEY]: String(d.changedMs) } }),
          ),
          overrides: [...s.overrides.values()].map((o) => ({
            backend: { service: o.service, address: o.address, port: o.port },
            action: ACTION_TO_WIRE.get(o.action) ?? OverrideAction.UNSPECIFIED,
            reason: o.reason,
            user: o.user,
            created: timestampFromDate(new Date(o.createdMs)),
            ...(o.expiresMs === undefined ? {} : { expires: timestampFromDate(new Date(o.expiresMs)) }),
          })),
          agents: [...s.agents.values()].map((a) => ({
            agentId: a.id,
            region: a.region,
            tokenFingerprint: a.tokenFingerprint,
            backends: a.backends.map((b) => ({
              ref: { service: b.service, address: b.address, port: b.port },
              weight: b.weight,
              healthCheck: {
                type: b.check.type,
                path: b.check.path,
                host: b.check.host,
                expectedStatus: b.check.expectedStatus,
              },
            })),
          })),
          events: s.events.map((e) => ({
            id: String(e.id),
            time: timestampFromDate(new Date(e.timeMs)),
            reason: e.reason,
            source: e.source,
            details: { ...e.details, __backend: e.backend, __from: e.from, __to: e.to, __service: e.service },
          })),
          nextEventId: BigInt(s.nextEventId),
        }),
      );
    },
    restore(bytes) {
      const snap = fromBinary(FsmSnapshotSchema, bytes);
      if (snap.version !== COMMAND_VERSION) {
        throw new UnsupportedCommandError(
          `snapshot format version ${snap.version} is not supported (supports ${COMMAND_VERSION})`,
        );
      }
      const next = emptyState();
      for (const d of snap.decisions) {
        const { [CHANGED_KEY]: changed = '0', ...details } = d.details;
        const dec = { ...decisionFromWire(d, Number(changed)), details };
        next.decisions.set(idKey(dec), dec);
      }
      // Re-apply the rest through apply() so snapshot and log share one code path.
      s = next;
      for (const o of snap.overrides) apply(command(0, { case: 'setOverride', value: { override: o } }));
      for (const a of snap.agents) apply(command(0, { case: 'registerAgent', value: a }));
      s.events = snap.events.map((e) => {
        const { __backend = '', __from = '', __to = '', __service = '', ...details } = e.details;
        return {
          id: Number(e.id),
          timeMs: ms(e.time) ?? 0,
          service: __service,
          backend: __backend,
          from: __from as BackendStatusName | '',
          to: __to as BackendStatusName | '',
          reason: e.reason,
          source: e.source,
          details,
        };
      });
      s.nextEventId = Number(snap.nextEventId);
    },
  };
}

/** Builds a command of the current format version, stamped with the proposer's time. */
export function command(
  timeMs: number,
  c: NonNullable<MessageInitShape<typeof CommandSchema>['command']>,
): Command {
  const init = { version: COMMAND_VERSION, time: timestampFromDate(new Date(timeMs)), command: c };
  return create(CommandSchema, init as MessageInitShape<typeof CommandSchema>);
}
