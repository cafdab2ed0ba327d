/**
 * The agent's side of AgentService.Connect: one stream at a time to one of the configured overwatch addresses,
 * Hello first, then reports; reconnects with full-jitter exponential backoff (capped at 30 s), failing over to
 * the next address after each failure and following `Reconnect` directives (leader redirects) at once.
 * Nothing is buffered while disconnected: a report that cannot be sent now is dropped (the next one
 * supersedes it). Each state change is logged once; retries are debug.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { Logger } from 'pino';
import type { ConnectRequestSchema, ConnectResponse, Welcome } from '../internal/gen/opengslb/v1/agent_pb.js';
import type { PredictivePolicy } from '../internal/gen/opengslb/v1/types_pb.js';
import { GrpcError } from '../internal/grpc/grpc-error.js';

type RequestInit = MessageInitShape<typeof ConnectRequestSchema>;

/** The transport: a bidi stream to an address (the gRPC client in production, an in-memory pipe in tests). */
export interface AgentStream extends AsyncIterable<ConnectResponse> {
  send(request: RequestInit): boolean;
  end(): void;
  cancel(): void;
}

export interface StreamClientOptions {
  addresses: readonly string[];
  open: (address: string) => AgentStream;
  hello: () => RequestInit['message'] & { case: 'hello' };
  log: Logger;
  /** Uniform in [0, 1); injected so tests are deterministic. */
  random: () => number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  onWelcome?: (w: Welcome) => void;
  onPolicy?: (p: PredictivePolicy) => void;
  onReportInterval?: (ms: number) => void;
  onConnectedChange?: (connected: boolean, address: string) => void;
}

export interface StreamClient {
  start(): void;
  /** Sends a report when connected; false when it was dropped (not connected, or the transport is full). */
  sendReport(report: RequestInit['message'] & { case: 'report' }): boolean;
  connected(): boolean;
  /** Stops reconnecting; with `goodbye`, tells the overwatch to deregister at once. Resolves when closed. */
  stop(goodbye: boolean): Promise<void>;
  reconnects(): number;
}

/** Full-jitter backoff (AWS architecture blog): uniform in [0, min(cap, base * 2^attempt)], at least 50 ms. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(50, Math.floor(random * ceiling));
}

/**
 * A failure message without the time grpc-js stamps into some of them ("... SSL alert number 116\n
 * (2026-01-01T10:00:00.000Z). Resolution note: "), so identical failures compare equal and are logged once.
 */
function failureKind(problem: string): string {
  return problem.replace(/\(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z\)/g, '(time)');
}

/** Redirects followed at once before the client backs off (and then follows the last one). */
export const MAX_IMMEDIATE_REDIRECTS = 3;

export function createStreamClient(opts: StreamClientOptions): StreamClient {
  const base = opts.baseBackoffMs ?? 500;
  const cap = opts.maxBackoffMs ?? 30_000;
  const log = opts.log;
  let stream: AgentStream | undefined;
  let isConnected = false;
  let stopped = false;
  let reconnectCount = 0;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let lastProblem = '';

  const setConnected = (v: boolean, address: string): void => {
    if (isConnected === v) return;
    isConnected = v;
    opts.onConnectedChange?.(v, address);
  };

  async function run(): Promise<void> {
    let index = 0;
    let attempt = 0;
    let redirect: string | undefined;
    /** Redirects followed since the last Welcome. */
    let redirects = 0;
    while (!stopped) {
      const address = redirect ?? (opts.addresses[index % opts.addresses.length] as string);
      redirect = undefined;
      let problem = 'stream closed by the overwatch';
      try {
        stream = opts.open(address);
        stream.send({ message: opts.hello() });
        for await (const msg of stream) {
          const m = msg.message;
          if (m.case === 'welcome') {
            attempt = 0;
            redirects = 0;
            lastProblem = '';
            setConnected(true, address);
            log.info(
              { overwatch: address, node: m.value.nodeId, accepted: m.value.accepted.length },
              'connected to overwatch',
            );
            opts.onWelcome?.(m.value);
            if (m.value.policy !== undefined) opts.onPolicy?.(m.value.policy);
          } else if (m.case === 'directive') {
            const d = m.value.directive;
            if (d.case === 'reconnect') {
              log.info(
                { from: address, to: d.value.address, reason: d.value.reason },
                'overwatch redirected this agent',
              );
              redirect = d.value.address;
              stream.cancel();
              break;
            }
            if (d.case === 'policy') opts.onPolicy?.(d.value);
            if (d.case === 'reportInterval')
              opts.onReportInterval?.(Number(d.value.seconds) * 1000 + d.value.nanos / 1e6);
            if (d.case === 'drain')
              log.warn(
                { reason: d.value.reason, backends: d.value.backends.length },
                "overwatch is draining this agent's backends",
              );
          }
        }
      } catch (e: unknown) {
        // A gRPC status keeps its code name ("UNAUTHENTICATED: agent token not accepted"): it is what the
        // operator acts on, and the message alone does not say it.
        problem = e instanceof GrpcError ? e.toString() : e instanceof Error ? e.message : String(e);
      }
      const wasConnected = isConnected;
      setConnected(false, address);
      stream = undefined;
      if (stopped) break;
      // Nodes that disagree about the leader (an election in progress) would bounce the agent between them:
      // follow a few redirects at once, then back off before following the next.
      if (redirect !== undefined && ++redirects <= MAX_IMMEDIATE_REDIRECTS) continue;
      reconnectCount++;
      index++;
      const delay = backoffMs(attempt++, base, cap, opts.random());
      // Log a loss of connection, or a new kind of failure, once; identical retries stay at debug.
      if (wasConnected || failureKind(problem) !== lastProblem) {
        log.warn(
          { overwatch: address, err: problem, retry_in_ms: delay },
          wasConnected ? 'lost connection to overwatch' : 'cannot connect to overwatch',
        );
        lastProblem = failureKind(problem);
      } else {
        log.debug({ overwatch: address, err: problem, retry_in_ms: delay }, 'retrying overwatch connection');
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  return {
    start() {
      if (loop === undefined) loop = run();
    },
    sendReport(report) {
      if (!isConnected || stream === undefined) return false;
      return stream.send({ message: report });
    },
    connected: () => isConnected,
    reconnects: () => reconnectCount,
    async stop(goodbye) {
      stopped = true;
      wake?.();
      const s = stream;
      if (s !== undefined) {
        if (goodbye && isConnected) {
          s.send({ message: { case: 'goodbye', value: { reason: 'agent shutting down' } } });
          s.end();
          // The overwatch closes the stream after Goodbye; do not wait for ever on a dead peer.
          const timer = setTimeout(() => s.cancel(), 2000);
          await loop;
          clearTimeout(timer);
          return;
        }
        s.cancel();
      }
      await loop;
    },
  };
}
