/**
 * Operator overrides (DESIGN.md section 5, authority 1), shared by REST and gRPC: parsing the target, checking
 * the backend exists, and building the state-machine command. The answer comes once the command is committed
 * (the caller awaits `propose`).
 */

import {
  type BackendTarget,
  backendTargetError,
  parseBackendTarget,
} from '../internal/config/backend-target.js';
import { parseDuration } from '../internal/config/duration.js';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { type Backend, formatTarget } from './backends.js';
import {
  ACTION_TO_WIRE,
  command,
  type FsmState,
  idKey,
  type OverrideActionName,
  type OverrideRecord,
} from './fsm.js';
import { timestampFromDate } from './proto-convert.js';

export const OVERRIDE_ACTIONS: readonly OverrideActionName[] = ['force_healthy', 'force_unhealthy', 'drain'];

/** A problem with an override request: `field` names what is wrong, `status` the HTTP status it maps to. */
export class OverrideInputError extends Error {
  constructor(
    readonly status: 400 | 404,
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'OverrideInputError';
  }
}

/** `10.0.0.1:80` or `[2001:db8::1]:80` (parseBackendTarget); throws a 400 OverrideInputError naming `target`. */
export function parseTarget(target: string): BackendTarget {
  const t = parseBackendTarget(target);
  if (t === undefined) throw new OverrideInputError(400, 'target', backendTargetError(target));
  return t;
}

export interface OverrideRequest {
  service: string;
  address: string;
  port: number;
  action: string;
  reason: string;
  /** Duration text like "30m"; empty = until cleared. */
  ttl: string;
  user: string;
}

/** Validates a request against the current backends; returns the command to propose. */
export function setOverrideCommand(
  req: OverrideRequest,
  backends: readonly Backend[],
  nowMs: number,
): Command {
  if (!OVERRIDE_ACTIONS.includes(req.action as OverrideActionName)) {
    throw new OverrideInputError(
      400,
      'action',
      `action must be one of ${OVERRIDE_ACTIONS.join(', ')} (got ${JSON.stringify(req.action)})`,
    );
  }
  let ttlMs: number | undefined;
  if (req.ttl !== '') {
    ttlMs = parseDuration(req.ttl);
    if (ttlMs === undefined || ttlMs <= 0) {
      throw new OverrideInputError(
        400,
        'ttl',
        `ttl must be a positive duration like "30m" (got ${JSON.stringify(req.ttl)})`,
      );
    }
  }
  if (req.reason.length > 500)
    throw new OverrideInputError(400, 'reason', 'reason must be at most 500 characters');
  requireBackend(req, backends);
  const action = req.action as OverrideActionName;
  return command(nowMs, {
    case: 'setOverride',
    value: {
      override: {
        backend: { service: req.service, address: req.address, port: req.port },
        action: ACTION_TO_WIRE.get(action) ?? 0,
        reason: req.reason,
        user: req.user,
        created: timestampFromDate(new Date(nowMs)),
        ...(ttlMs === undefined ? {} : { expires: timestampFromDate(new Date(nowMs + ttlMs)) }),
      },
    },
  });
}

export function requireBackend(
  req: { service: string; address: string; port: number },
  backends: readonly Backend[],
): void {
  if (!backends.some((b) => b.service === req.service && b.address === req.address && b.port === req.port)) {
    throw new OverrideInputError(
      404,
      'backend',
      `no backend ${formatTarget(req.address, req.port)} in service "${req.service}"`,
    );
  }
}

/** The command clearing an override, or a 404 when there is none. */
export function clearOverrideCommand(
  req: { service: string; address: string; port: number; user: string },
  s: FsmState,
  nowMs: number,
): Command {
  if (!s.overrides.has(idKey(req))) {
    throw new OverrideInputError(
      404,
      'backend',
      `no override for ${formatTarget(req.address, req.port)} in service "${req.service}"`,
    );
  }
  return command(nowMs, {
    case: 'clearOverride',
    value: {
      backend: { service: req.service, address: req.address, port: req.port },
      user: req.user,
      reason: 'cleared',
    },
  });
}

/** JSON shape of an override (REST). */
export function overrideJson(o: OverrideRecord) {
  return {
    service: o.service,
    address: o.address,
    port: o.port,
    target: formatTarget(o.address, o.port),
    action: o.action,
    reason: o.reason,
    user: o.user,
    created: new Date(o.createdMs).toISOString(),
    expires: o.expiresMs === undefined ? null : new Date(o.expiresMs).toISOString(),
  };
}
