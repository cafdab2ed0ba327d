/**
 * State-machine snapshots: the whole FsmState as one opengslb.v1.FsmSnapshot. Overrides and agent registrations
 * are restored through `apply`, so snapshot and log share one code path.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { OverrideAction } from '../internal/gen/opengslb/v1/admin_pb.js';
import { type Command, FsmSnapshotSchema } from '../internal/gen/opengslb/v1/fsm_pb.js';
import type { BackendStatusName } from './backend-status.js';
import { COMMAND_VERSION, command, type FsmState, idKey, UnsupportedCommandError } from './fsm.js';
import { ACTION_TO_WIRE, decisionFromWire, decisionToWire, ms } from './fsm-wire.js';
import { timestampFromDate } from './proto-convert.js';

/**
 * Snapshot-only details key carrying `changedMs`, which BackendDecision has no field for; restore strips it, so
 * it never shows in a decision. (Events carry their extra fields the same way.)
 */
const CHANGED_KEY = '__changed_ms';

/** Encodes the state (decisions, overrides, agents, the audit trail and the next event id). */
export function encodeFsmSnapshot(s: FsmState): Uint8Array {
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
}

/**
 * Decodes a snapshot into a fresh state: `install` makes it the machine's state before `apply` replays the
 * overrides and registrations into it. Throws UnsupportedCommandError for an unknown snapshot version.
 */
export function decodeFsmSnapshot(
  bytes: Uint8Array,
  empty: () => FsmState,
  install: (s: FsmState) => void,
  apply: (cmd: Command) => unknown,
): FsmState {
  const snap = fromBinary(FsmSnapshotSchema, bytes);
  if (snap.version !== COMMAND_VERSION) {
    throw new UnsupportedCommandError(
      `snapshot format version ${snap.version} is not supported (supports ${COMMAND_VERSION})`,
    );
  }
  const next = empty();
  for (const d of snap.decisions) {
    const { [CHANGED_KEY]: changed = '0', ...details } = d.details;
    const dec = { ...decisionFromWire(d, Number(changed)), details };
    next.decisions.set(idKey(dec), dec);
  }
  // Re-apply the rest through apply() so snapshot and log share one code path.
  install(next);
  for (const o of snap.overrides) apply(command(0, { case: 'setOverride', value: { override: o } }));
  for (const a of snap.agents) apply(command(0, { case: 'registerAgent', value: a }));
  next.events = snap.events.map((e) => {
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
  next.nextEventId = Number(snap.nextEventId);
  return next;
}
