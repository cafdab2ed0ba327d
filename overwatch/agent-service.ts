/**
 * opengslb.v1.AgentService on gRPC: authenticates the stream, runs an AgentSession over it and pushes
 * Directives (policy changes) to every connected agent. Limits: `maxStreams` concurrent agent streams
 * (RESOURCE_EXHAUSTED beyond), one outbox per stream bounded so a stalled agent cannot grow memory.
 * Cluster mode: only the leader serves agent streams; elsewhere Connect is answered by `route` (./agent-route.ts)
 * with a Reconnect directive to the leader or UNAVAILABLE, and `reroute` moves open streams when leadership moves.
 */

import { createHash } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { createAsyncQueue } from '../internal/async/queue.js';
import type { ConnectResponse, Hello } from '../internal/gen/opengslb/v1/agent_pb.js';
import { type AgentService, ConnectResponseSchema } from '../internal/gen/opengslb/v1/agent_pb.js';
import type { PredictivePolicy } from '../internal/gen/opengslb/v1/types_pb.js';
import { bearerToken, tokensEqual } from '../internal/grpc/auth.js';
import { GrpcError, statusName } from '../internal/grpc/grpc-error.js';
import type { ServiceImpl } from '../internal/grpc/service.js';
import type { AgentRegistry } from './agent-registry.js';
import type { AgentRoute } from './agent-route.js';
import { createAgentSession } from './agent-session.js';

export interface AgentServiceDeps {
  nodeId: string;
  registry: AgentRegistry;
  log: Logger;
  /** service -> token (cluster.overwatch.agent_tokens). */
  tokens: () => Readonly<Record<string, string>>;
  domains: () => ReadonlySet<string>;
  policy: () => PredictivePolicy;
  minReportIntervalMs: () => number;
  maxStreams: number;
  /** The registry changed (answers, gauges). */
  onChange: () => void;
  onThrottled: () => void;
  onRejected: (code: string) => void;
  /** A Hello was accepted; `tokenFingerprint` identifies the token without revealing it. */
  onAccepted: (hello: Hello, tokenFingerprint: string) => void;
  onGoodbye: (agentId: string) => void;
  /** A Hello was refused (bad scope or input): the node records an event. */
  onHelloRejected: (agentId: string, reason: string) => void;
  /** Cluster mode: whether this node serves agent streams now (default: always). */
  route?: () => AgentRoute;
}

export interface AgentServiceHandle {
  impl: ServiceImpl<typeof AgentService>;
  /** Sends the current policy to every connected agent (after a reload changed it). */
  broadcastPolicy(): void;
  /**
   * Re-evaluates `route` for every open stream (leadership moved): streams this node no longer serves get a
   * Reconnect directive to the leader and end, or end with UNAVAILABLE while no leader is known.
   */
  reroute(): void;
  streams(): number;
}

function reconnectMessage(address: string, reason: string): ConnectResponse {
  return create(ConnectResponseSchema, {
    message: {
      case: 'directive',
      value: { directive: { case: 'reconnect', value: { address, reason } } },
    },
  });
}

/** First 16 hex characters of the token's SHA-256: enough to tell tokens apart in the log, useless to replay. */
function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 16);
}

/** Services whose token equals the presented one (several services may share a token). */
function servicesFor(token: string, tokens: Readonly<Record<string, string>>): Set<string> {
  const out = new Set<string>();
  for (const [service, t] of Object.entries(tokens)) if (t !== '' && tokensEqual(token, t)) out.add(service);
  return out;
}

export function createAgentService(deps: AgentServiceDeps): AgentServiceHandle {
  const outboxes = new Set<ReturnType<typeof createAsyncQueue<ConnectResponse>>>();
  /** Streams `reroute` ended while the agent was still sending: their request side ends with the call. */
  const movedOff = new WeakSet<ReturnType<typeof createAsyncQueue<ConnectResponse>>>();
  const log = deps.log;

  const reject = (code: status, message: string, peer: string): never => {
    deps.onRejected(statusName(code));
    log.warn({ peer, code: statusName(code), reason: message }, 'agent stream refused');
    throw new GrpcError(code, message);
  };

  return {
    streams: () => outboxes.size,
    broadcastPolicy() {
      const msg = create(ConnectResponseSchema, {
        message: { case: 'directive', value: { directive: { case: 'policy', value: deps.policy() } } },
      });
      for (const o of outboxes) o.push(msg);
    },
    reroute() {
      const route = deps.route?.() ?? { kind: 'serve' };
      if (route.kind === 'serve' || outboxes.size === 0) return;
      log.info({ streams: outboxes.size, ...route }, 'moving agent streams off this node (not the leader)');
      for (const o of outboxes) {
        movedOff.add(o);
        if (route.kind === 'redirect') {
          o.push(reconnectMessage(route.address, `${route.leaderId} is the cluster leader`));
          o.close();
        } else o.fail(new GrpcError(status.UNAVAILABLE, route.reason));
      }
    },
    impl: {
      async *connect(requests, ctx) {
        const token = bearerToken(ctx.metadata);
        if (token === undefined)
          reject(status.UNAUTHENTICATED, 'missing "authorization: Bearer <agent token>" metadata', ctx.peer);
        const allowed = servicesFor(token ?? '', deps.tokens());
        if (allowed.size === 0) reject(status.UNAUTHENTICATED, 'agent token not accepted', ctx.peer);
        const route = deps.route?.() ?? { kind: 'serve' };
        if (route.kind === 'unavailable') reject(status.UNAVAILABLE, route.reason, ctx.peer);
        if (route.kind === 'redirect') {
          log.info(
            { peer: ctx.peer, leader: route.leaderId, to: route.address },
            'agent redirected to the leader',
          );
          yield reconnectMessage(route.address, `${route.leaderId} is the cluster leader`);
          return;
        }
        if (outboxes.size >= deps.maxStreams) {
          reject(
            status.RESOURCE_EXHAUSTED,
            `too many agent streams on this node (limit ${deps.maxStreams})`,
            ctx.peer,
          );
        }
        const outbox = createAsyncQueue<ConnectResponse>(256);
        outboxes.add(outbox);
        const session = createAgentSession({
          nodeId: deps.nodeId,
          allowedServices: allowed,
          domains: deps.domains,
          policy: deps.policy,
          minReportIntervalMs: deps.minReportIntervalMs,
          registry: deps.registry,
          nowMs: () => performance.now(),
          wall: () => new Date(),
          onThrottled: deps.onThrottled,
          onAccepted: (h) => deps.onAccepted(h, fingerprint(token ?? '')),
          onGoodbye: deps.onGoodbye,
          onRejected: (agentId, reason) => {
            log.warn({ peer: ctx.peer, agent: agentId, reason }, 'agent hello rejected');
            deps.onHelloRejected(agentId, reason);
          },
        });
        // Requests are consumed concurrently with writing responses: the outbox is the only meeting point.
        const reading = (async () => {
          try {
            for await (const req of requests) {
              if (outbox.closed) break; // moved off this node: the agent's messages belong to the leader
              const step = session.receive(req);
              for (const m of step.send) outbox.push(m);
              if (step.changed) deps.onChange();
              if (step.end !== undefined) {
                if (step.end.code === 0) {
                  log.info({ agent: session.agentId(), peer: ctx.peer }, 'agent said goodbye');
                  outbox.close();
                } else {
                  deps.onRejected(statusName(step.end.code));
                  outbox.fail(new GrpcError(step.end.code, step.end.message));
                }
                return;
              }
            }
            outbox.close();
          } catch (e: unknown) {
            // The stream broke (cancel, network): end the response side quietly.
            outbox.fail(e instanceof GrpcError ? e : new GrpcError(status.CANCELLED, 'stream ended'));
          }
        })();
        try {
          for await (const m of outbox) {
            if (m.message.case === 'welcome') {
              log.info(
                { agent: session.agentId(), peer: ctx.peer, backends: m.message.value.accepted.length },
                'agent connected',
              );
            }
            yield m;
          }
        } finally {
          outboxes.delete(outbox);
          const id = session.agentId();
          session.closed();
          deps.onChange();
          if (id !== undefined) log.info({ agent: id, peer: ctx.peer }, 'agent stream closed');
          // A moved stream ends now (its status reaches the agent); the request side ends with the call.
          if (!movedOff.has(outbox)) await reading;
        }
      },
    },
  };
}
