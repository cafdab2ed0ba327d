/** Conversions between the state machine's plain records and their opengslb.v1 wire messages. */
import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { OverrideAction } from '../internal/gen/opengslb/v1/admin_pb.js';
import {
  BackendDecisionSchema,
  type BackendDecision as WireDecision,
} from '../internal/gen/opengslb/v1/fsm_pb.js';
import { BackendStatus } from '../internal/gen/opengslb/v1/types_pb.js';
import type { BackendStatusName } from './backend-status.js';
import type { Decision, OverrideActionName } from './fsm.js';
import { timestampFromDate } from './proto-convert.js';

export const STATUS_FROM_WIRE = new Map<BackendStatus, BackendStatusName>([
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

export const ms = (t: { seconds: bigint; nanos: number } | undefined): number | undefined =>
  t === undefined ? undefined : timestampDate(t as Parameters<typeof timestampDate>[0]).getTime();

export function decisionFromWire(d: WireDecision, changedMs: number): Decision {
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
