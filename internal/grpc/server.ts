import type { ChannelOptions, ServerCredentials } from '@grpc/grpc-js';
import { Server } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { formatHostPort } from '../api/listen.js';

/** gRPC's own default receive limit; reports and admin calls are far below it. */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Server keepalive: HTTP/2 pings that detect dead peers on long-lived agent streams. */
export interface ServerKeepalive {
  /** Ping a connection after this long without a ping, in ms. Default 30 000. */
  timeMs?: number;
  /** Close the connection when a ping is not answered within this, in ms. Default 10 000. */
  timeoutMs?: number;
}

/** Options of {@link createGrpcServer}. */
export interface GrpcServerOptions {
  /** Address to bind; '' binds all interfaces (`::` dual-stack, else `0.0.0.0`). */
  host: string;
  /** TCP port; 0 picks an ephemeral one (see `start()`'s result). */
  port: number;
  credentials: ServerCredentials;
  log: Logger;
  /** Largest request message accepted, in bytes; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxMessageBytes?: number;
  keepalive?: ServerKeepalive;
  /**
   * HTTP/2 streams (calls) one connection may have open at once. Default 100: an agent needs one, an operator
   * a few; the cap keeps a single client from holding unbounded server state.
   */
  maxConcurrentStreams?: number;
}

/** A gRPC server with its lifecycle. Add services to `server` before `start()`. */
export interface GrpcServer {
  readonly server: Server;
  /**
   * Binds and starts serving.
   * @throws GrpcListenError like `gRPC: cannot listen on 127.0.0.1:9443: address already in use (EADDRINUSE)`.
   */
  start(): Promise<{ port: number }>;
  /**
   * Stops accepting connections and lets calls in flight finish for up to `graceMs`, then cancels the rest
   * (long-lived streams like Watch or agent Connect never finish by themselves). Resolves when done.
   */
  close(graceMs: number): Promise<void>;
}

/** Binding the gRPC listener failed; the message names the address and the OS error. */
export class GrpcListenError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'GRPC_LISTEN';
  /** The OS error code, e.g. 'EADDRINUSE', when grpc-js reported one. */
  readonly errno: string | undefined;
  constructor(host: string, port: number, cause: unknown) {
    const errno = errnoOf(cause);
    const reason =
      errno === undefined ? messageOf(cause) : `${REASONS[errno] ?? messageOf(cause)} (${errno})`;
    super(`gRPC: cannot listen on ${formatHostPort(host, port)}: ${reason}`, { cause });
    this.name = 'GrpcListenError';
    this.errno = errno;
  }
}

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  EAFNOSUPPORT: 'address family not supported',
  ENOTFOUND: 'host name not found',
};

/** Codes meaning the host has no usable IPv6, so `::` cannot be bound at all. */
const IPV6_UNAVAILABLE = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);

/** A gRPC server with OpenGSLB's defaults; nothing is bound until `start()`. */
export function createGrpcServer(opts: GrpcServerOptions): GrpcServer {
  const options: ChannelOptions = {
    'grpc.max_receive_message_length': opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': opts.keepalive?.timeMs ?? 30_000,
    'grpc.keepalive_timeout_ms': opts.keepalive?.timeoutMs ?? 10_000,
    'grpc.max_concurrent_streams': opts.maxConcurrentStreams ?? 100,
  };
  const server = new Server(options);
  let started = false;

  const bind = (host: string): Promise<number> =>
    new Promise((resolve, reject) => {
      server.bindAsync(formatHostPort(host, opts.port), opts.credentials, (e, port) => {
        if (e) reject(new GrpcListenError(host, opts.port, e));
        else resolve(port);
      });
    });

  return {
    server,
    start: async () => {
      if (started) throw new Error('gRPC: server already started');
      started = true;
      let port: number;
      if (opts.host !== '') {
        port = await bind(opts.host);
      } else {
        try {
          port = await bind('::');
        } catch (e: unknown) {
          if (!(e instanceof GrpcListenError && e.errno !== undefined && IPV6_UNAVAILABLE.has(e.errno)))
            throw e;
          port = await bind('0.0.0.0');
        }
      }
      opts.log.info({ address: formatHostPort(opts.host, port) }, 'gRPC listening');
      return { port };
    },
    close: (graceMs) =>
      new Promise((resolve) => {
        let done = false;
        const finish = (): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          opts.log.warn({ graceMs }, 'gRPC calls still open after the grace period; cancelling them');
          server.forceShutdown();
          finish();
        }, graceMs);
        server.tryShutdown(finish);
      }),
  };
}

function errnoOf(cause: unknown): string | undefined {
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') {
    return cause.code;
  }
  // grpc-js folds bind failures into one message: `No address added out of total 1 resolved errors:
  // [listen EADDRINUSE: address already in use 127.0.0.1:9443]`.
  return /\b(E[A-Z]{3,})\b/.exec(messageOf(cause))?.[1];
}

function messageOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
