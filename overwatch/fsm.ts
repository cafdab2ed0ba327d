/**
 * The replicated state machine (DESIGN.md section 4): backend decisions, operator overrides, agent
 * registrations and the bounded audit trail. Deterministic: `apply` reads no clock (times come from the
 * command), no randomness, no I/O, so every node applying the same log reaches the same state.
 *
 * Commands carry a format version; a command this build does not understand (newer version, or a command
 * kind it cannot see) throws `UnsupportedCommandError` and the caller must stop applying rather than diverge.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { type Command, CommandSchema } from '../internal/gen/opengslb/v1/fsm_pb.js';
import type { BackendStatusName } from './backend-status.js';
import { backendKey, formatTarget } from './backends.js';
import { decodeFsmSnapshot, encodeFsmSnapshot } from './fsm-snapshot.js';
import { ACTION_FROM_WIRE, decisionFromWire, ms, STATUS_FROM_WIRE } from './fsm-wire.js';
import { timestampFromDate } from './proto-convert.js';

export { ACTION_FROM_WIRE, ACTION_TO_WIRE, decisionToWire } from './fsm-wire.js';

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

/** `service|address:port`, the key of decisions and overrides (one definition: `backendKey`). */
export const idKey: (b: BackendId) => string = backendKey;

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
    snapshot: () => encodeFsmSnapshot(s),
    restore(bytes) {
      s = decodeFsmSnapshot(
        bytes,
        emptyState,
        (next) => {
          s = next;
        },
        apply,
      );
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
