/**
 * One agent stream's protocol logic, without the transport: the gRPC handler feeds each ConnectRequest in and
 * writes back what comes out. Rules (agent.proto):
 * - the first message must be Hello; its backends must name configured domains the token covers;
 * - Reports are acknowledged; a report sooner than `minReportIntervalMs` after the last accepted one is
 *   dropped unacknowledged (throttled), so a misbehaving agent cannot flood the node;
 * - Goodbye deregisters at once; a stream that ends without it leaves the agent to go stale.
 */

import { isIP } from 'node:net';
import { create } from '@bufbuild/protobuf';
import {
  type ConnectRequest,
  type ConnectResponse,
  ConnectResponseSchema,
  DirectiveSchema,
  type Hello,
  type Report,
} from '../internal/gen/opengslb/v1/agent_pb.js';
import { BackendRefSchema, type PredictivePolicy } from '../internal/gen/opengslb/v1/types_pb.js';
import { type AgentBackend, type AgentClaim, type AgentRegistry, backendKey } from './agent-registry.js';
import { msFromDuration, readingsFromWire } from './proto-convert.js';

/** gRPC status codes this layer ends a stream with (values of @grpc/grpc-js `status`). */
export const Code = { INVALID_ARGUMENT: 3, PERMISSION_DENIED: 7, FAILED_PRECONDITION: 9 } as const;

export interface SessionEnd {
  code: number;
  message: string;
}

export interface Step {
  send: ConnectResponse[];
  /** End the stream: with OK (code 0) after Goodbye, or with an error. */
  end?: SessionEnd;
  /** True when the registry changed in a way that can change answers or displays. */
  changed: boolean;
}

export interface AgentSessionDeps {
  nodeId: string;
  /** Services (domains[].name) the presented token covers. */
  allowedServices: ReadonlySet<string>;
  /** Configured domain names. */
  domains: () => ReadonlySet<string>;
  policy: () => PredictivePolicy;
  minReportIntervalMs: () => number;
  registry: AgentRegistry;
  nowMs: () => number;
  wall: () => Date;
  /** Called for every report dropped by the throttle. */
  onThrottled?: () => void;
  /** Called when a Hello is rejected, with the reason (for an event or log). */
  onRejected?: (agentId: string, reason: string) => void;
  /** Called when a Hello is accepted (the node registers the agent in the state machine). */
  onAccepted?: (hello: Hello) => void;
  /** Called when the agent said Goodbye (the node deregisters it at once). */
  onGoodbye?: (agentId: string) => void;
}

export interface AgentSession {
  receive(msg: ConnectRequest): Step;
  /** The stream ended without Goodbye (network loss, agent killed). */
  closed(): void;
  /** The agent id once Hello was accepted. */
  agentId(): string | undefined;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function validateHello(h: Hello, deps: AgentSessionDeps): SessionEnd | undefined {
  if (!ID.test(h.agentId)) {
    return {
      code: Code.INVALID_ARGUMENT,
      message: `hello.agent_id: must be 1-128 letters, digits, ".", "_" or "-" (got ${JSON.stringify(h.agentId)})`,
    };
  }
  if (h.region === '') return { code: Code.INVALID_ARGUMENT, message: 'hello.region: is required' };
  const domains = deps.domains();
  const seen = new Set<string>();
  for (const [i, b] of h.backends.entries()) {
    const ref = b.ref;
    const where = `hello.backends[${i}]`;
    if (ref === undefined) return { code: Code.INVALID_ARGUMENT, message: `${where}.ref: is required` };
    if (!domains.has(ref.service)) {
      return {
        code: Code.INVALID_ARGUMENT,
        message: `${where}.ref.service: "${ref.service}" is not a configured domain`,
      };
    }
    if (!deps.allowedServices.has(ref.service)) {
      return {
        code: Code.PERMISSION_DENIED,
        message: `${where}: the agent token does not cover service "${ref.service}"`,
      };
    }
    if (isIP(ref.address) === 0) {
      return {
        code: Code.INVALID_ARGUMENT,
        message: `${where}.ref.address: must be an IPv4 or IPv6 address (got ${JSON.stringify(ref.address)})`,
      };
    }
    if (ref.port < 1 || ref.port > 65535) {
      return {
        code: Code.INVALID_ARGUMENT,
        message: `${where}.ref.port: must be 1..65535 (got ${ref.port})`,
      };
    }
    if (b.weight > 1000)
      return { code: Code.INVALID_ARGUMENT, message: `${where}.weight: must be 0..1000 (got ${b.weight})` };
    const key = backendKey(ref);
    if (seen.has(key)) return { code: Code.INVALID_ARGUMENT, message: `${where}: duplicate backend ${key}` };
    seen.add(key);
  }
  return undefined;
}

function claimsOf(r: Report): Map<string, AgentClaim> {
  const out = new Map<string, AgentClaim>();
  for (const c of r.checks) {
    if (c.backend === undefined) continue;
    out.set(backendKey(c.backend), {
      healthy: c.healthy,
      latencyMs: msFromDuration(c.latency),
      error: c.error,
    });
  }
  return out;
}

const respond = (message: ConnectResponse['message']): ConnectResponse =>
  create(ConnectResponseSchema, { message });

export function createAgentSession(deps: AgentSessionDeps): AgentSession {
  let agent: { id: string; session: number } | undefined;
  let lastReportMs = Number.NEGATIVE_INFINITY;
  let throttleNotified = false;
  let ended = false;

  const fail = (end: SessionEnd): Step => {
    ended = true;
    return { send: [], end, changed: false };
  };

  return {
    agentId: () => agent?.id,
    receive(msg) {
      if (ended) return { send: [], changed: false };
      switch (msg.message.case) {
        case 'hello': {
          if (agent !== undefined)
            return fail({ code: Code.INVALID_ARGUMENT, message: 'hello: sent twice on one stream' });
          const h = msg.message.value;
          const problem = validateHello(h, deps);
          if (problem !== undefined) {
            deps.onRejected?.(h.agentId, problem.message);
            return fail(problem);
          }
          const backends: AgentBackend[] = h.backends.map((b) => ({
            service: b.ref?.service ?? '',
            address: b.ref?.address ?? '',
            port: b.ref?.port ?? 0,
            weight: b.weight,
          }));
          const { session } = deps.registry.hello(
            {
              id: h.agentId,
              hostname: h.hostname,
              region: h.region,
              version: h.version,
              nodeId: deps.nodeId,
              backends,
            },
            deps.nowMs(),
            deps.wall(),
          );
          agent = { id: h.agentId, session };
          deps.onAccepted?.(h);
          const welcome = respond({
            case: 'welcome',
            value: {
              $typeName: 'opengslb.v1.Welcome',
              nodeId: deps.nodeId,
              accepted: backends.map((b) =>
                create(BackendRefSchema, { service: b.service, address: b.address, port: b.port }),
              ),
              policy: deps.policy(),
            },
          });
          return { send: [welcome], changed: true };
        }
        case 'report': {
          if (agent === undefined)
            return fail({
              code: Code.FAILED_PRECONDITION,
              message: 'report: the first message must be hello',
            });
          const now = deps.nowMs();
          if (now - lastReportMs < deps.minReportIntervalMs()) {
            deps.onThrottled?.();
            // Tell the agent once, so a too-eager report_interval is corrected instead of silently halved.
            if (throttleNotified) return { send: [], changed: false };
            throttleNotified = true;
            const ms = deps.minReportIntervalMs();
            const directive = respond({
              case: 'directive',
              value: create(DirectiveSchema, {
                directive: {
                  case: 'reportInterval',
                  value: { seconds: BigInt(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 },
                },
              }),
            });
            return { send: [directive], changed: false };
          }
          lastReportMs = now;
          const r = msg.message.value;
          const accepted = deps.registry.report(
            agent.id,
            agent.session,
            {
              sequence: Number(r.sequence),
              cpuPercent: r.cpuPercent,
              memoryPercent: r.memoryPercent,
              errorRatePercent: r.errorRatePercent,
              signals: readingsFromWire(r.signals),
            },
            claimsOf(r),
            now,
            deps.wall(),
          );
          if (!accepted)
            return fail({
              code: Code.FAILED_PRECONDITION,
              message: 'report: this stream was replaced by a newer connection of the same agent',
            });
          return {
            send: [respond({ case: 'ack', value: { $typeName: 'opengslb.v1.Ack', sequence: r.sequence } })],
            changed: true,
          };
        }
        case 'goodbye': {
          ended = true;
          const removed = agent !== undefined && deps.registry.goodbye(agent.id, agent.session);
          if (removed && agent !== undefined) deps.onGoodbye?.(agent.id);
          return { send: [], end: { code: 0, message: 'goodbye' }, changed: removed };
        }
        default:
          return fail({ code: Code.INVALID_ARGUMENT, message: 'message: empty or unknown message kind' });
      }
    },
    closed() {
      if (agent !== undefined && !ended) deps.registry.disconnect(agent.id, agent.session);
      ended = true;
    },
  };
}
