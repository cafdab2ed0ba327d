import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, validateHeaderName, validateHeaderValue } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ApiHttpError, apiError } from './api-error.js';
import { decodeJsonBody } from './json-body.js';
import { listenOrFail } from './listen.js';
import { displayAddress } from './networks.js';
import type { ApiResponse, Route } from './router.js';
import { createRouter } from './router.js';

/** Largest accepted request body in bytes; larger ones get 413. */
export const API_MAX_BODY_BYTES = 64 * 1024;

/** Route label passed to `onRequest` when no route pattern matched the path (keeps metric labels bounded). */
export const UNMATCHED_ROUTE = 'unmatched';

/** Options for {@link createApiServer}. */
export interface ApiServerOptions {
  /** Address to bind; `''` binds all interfaces (`::` dual-stack, falling back to `0.0.0.0` without IPv6). */
  host: string;
  /** TCP port; 0 picks an ephemeral one (read it back with `address()`). */
  port: number;
  /** Usually `log.child({ component: 'api' })`; requests are logged at debug, refusals at warn. */
  log: Logger;
  /** Access check on the raw peer address (`::ffff:` form included), e.g. from createNetworkMatcher. */
  allow: (remoteAddress: string) => boolean;
  routes: Route[];
  /** Called once per response sent, with the matched route pattern (or {@link UNMATCHED_ROUTE}) and status. */
  onRequest?: (route: string, status: number) => void;
  /**
   * Milliseconds a client gets to send headers and, separately, the whole request. Default 10000. Node checks
   * once a second, so a slow client is cut off within this plus one second.
   */
  requestTimeoutMs?: number;
  /** Milliseconds `close()` waits for in-flight requests before destroying their connections. Default 5000. */
  shutdownTimeoutMs?: number;
}

/** A started-on-demand REST server. */
export interface ApiServer {
  /** Binds and listens. @throws Error like `API: cannot listen on 127.0.0.1:8080: address already in use (EADDRINUSE)`. */
  start(): Promise<void>;
  /**
   * Stops accepting connections, closes idle keep-alive connections at once, lets in-flight requests finish
   * (their responses carry `Connection: close`) for up to `shutdownTimeoutMs`, then destroys what is left.
   * Resolves when every connection is gone; safe to call more than once or before `start()`.
   */
  close(): Promise<void>;
  /** The bound address. @throws Error when not listening. */
  address(): AddressInfo;
}

type BodyRead = { kind: 'ok'; bytes: Buffer } | { kind: 'too_large' } | { kind: 'aborted' };

/**
 * Creates a JSON REST server over node:http. Per request, in order: the peer must pass `allow` (403), the path
 * must match a route (404, 400 for a malformed path) with that method (405 + `Allow`), a body is only taken by
 * PUT/POST (400), must fit {@link API_MAX_BODY_BYTES} (413), be `application/json` (415), parse (400
 * `invalid_json`) and be an object (400 `invalid_body`). A handler's {@link ApiHttpError} becomes its response;
 * any other throw becomes a 500 whose message never reaches the client. Responses are compact JSON plus "\n".
 * @throws Error at creation for a malformed or duplicate route.
 */
export function createApiServer(opts: ApiServerOptions): ApiServer {
  const { log } = opts;
  const router = createRouter(opts.routes);
  const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  const shutdownTimeoutMs = opts.shutdownTimeoutMs ?? 5_000;
  const server = createServer({
    headersTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs,
    connectionsCheckingInterval: 1_000,
  });
  let state: 'new' | 'listening' | 'closed' = 'new';
  let closing: Promise<void> | undefined;
  let inFlight = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? '';
    const peer = req.socket.remoteAddress ?? '';
    const client = displayAddress(peer);
    const target = req.url ?? '';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    const match = router.match(method, pathname);
    const route =
      match.kind === 'found'
        ? match.route.path
        : match.kind === 'method_not_allowed'
          ? match.pattern
          : UNMATCHED_ROUTE;

    const reply = (response: ApiResponse): void => {
      let status = response.status;
      try {
        writeResponse(res, response, closing !== undefined);
      } catch (e: unknown) {
        log.error({ err: e, method, route }, 'API handler returned a response that cannot be sent');
        status = 500;
        writeResponse(res, internalError(), closing !== undefined);
      }
      log.debug({ method, route, status, client }, 'API request');
      try {
        opts.onRequest?.(route, status);
      } catch (e: unknown) {
        log.error({ err: e, route }, 'API onRequest callback failed');
      }
    };

    // Checked before routing answers, so refused clients learn nothing about which paths exist.
    if (!opts.allow(peer)) {
      log.warn({ client, method, route }, 'API request refused: client outside the allowed networks');
      return reply(apiError(403, 'forbidden', `client ${client} is not in api.allowed_networks`));
    }
    if (match.kind === 'not_found') {
      return reply(apiError(404, 'not_found', `no route matches path "${pathname}"`));
    }
    if (match.kind === 'bad_path') return reply(apiError(400, 'invalid_path', match.message));
    if (match.kind === 'method_not_allowed') {
      const allow = match.allow.join(', ');
      const message = `method ${method} is not allowed on ${match.pattern}; use ${allow}`;
      return reply(apiError(405, 'method_not_allowed', message, { allow }));
    }

    const read = await readBody(req, API_MAX_BODY_BYTES);
    if (read.kind === 'aborted') {
      log.debug({ method, route, client }, 'API request aborted by the client while sending its body');
      return;
    }
    if (read.kind === 'too_large') {
      return reply(apiError(413, 'payload_too_large', `request body exceeds ${API_MAX_BODY_BYTES} bytes`));
    }
    let body: unknown;
    if (read.bytes.length > 0) {
      if (method !== 'PUT' && method !== 'POST') {
        return reply(apiError(400, 'unexpected_body', `${method} requests take no body`));
      }
      const contentType = req.headers['content-type'];
      if (contentType?.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
        const got = contentType === undefined ? 'none' : `"${contentType}"`;
        const message = `request body must be application/json, got content-type ${got}`;
        return reply(apiError(415, 'unsupported_media_type', message));
      }
      const decoded = decodeJsonBody(read.bytes);
      if (!decoded.ok) return reply(apiError(400, 'invalid_json', decoded.message));
      const value = decoded.value;
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
        return reply(apiError(400, 'invalid_body', `request body must be a JSON object, got ${kind}`));
      }
      body = value;
    }

    let response: ApiResponse;
    try {
      response = await match.route.handler({
        params: match.params,
        query: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)),
        headers: req.headers,
        body,
        remoteAddress: client,
      });
    } catch (e: unknown) {
      if (e instanceof ApiHttpError) {
        response = e.toResponse();
      } else {
        log.error({ err: e, method, route }, 'API handler failed');
        response = internalError();
      }
    }
    reply(response);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    inFlight++;
    res.once('close', () => {
      inFlight--;
    });
    handle(req, res).catch((e: unknown) => {
      log.error({ err: e, method: req.method }, 'API request failed');
      res.destroy();
    });
  });

  return {
    async start() {
      if (state !== 'new') throw new Error(`API: start() called on a server that is ${state}`);
      await listenOrFail(server, opts.host, opts.port);
      state = 'listening';
      server.on('error', (e: Error) => log.error({ err: e }, 'API server error'));
      const { address, port } = server.address() as AddressInfo;
      log.info({ address, port }, 'API listening');
    },

    close() {
      if (state !== 'listening') {
        state = 'closed';
        return closing ?? Promise.resolve();
      }
      state = 'closed';
      closing = new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ inFlight, shutdownTimeoutMs }, 'API shutdown timed out; destroying open connections');
          server.closeAllConnections();
        }, shutdownTimeoutMs);
        server.close(() => {
          clearTimeout(timer);
          log.info({}, 'API stopped');
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },

    address() {
      const a = server.address();
      if (a === null || typeof a === 'string') throw new Error('API: address() called while not listening');
      return a;
    },
  };
}

function internalError(): ApiResponse {
  return apiError(500, 'internal', 'internal error');
}

/** @throws Error (before anything is written) for an invalid status, header or unserialisable body. */
function writeResponse(res: ServerResponse, r: ApiResponse, closeConnection: boolean): void {
  if (!Number.isInteger(r.status) || r.status < 200 || r.status > 599) {
    throw new Error(`response status ${r.status} is not an integer in 200..599`);
  }
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    headers.set(name.toLowerCase(), value);
  }
  // RFC 9110 §6.4.1 and §8.6: 204 and 304 carry no content and no Content-Length.
  const bodyless = r.status === 204 || r.status === 304;
  const json = bodyless ? undefined : JSON.stringify(r.body);
  const payload = json === undefined ? '' : `${json}\n`;
  headers.delete('content-type');
  headers.delete('content-length');
  if (payload !== '') headers.set('content-type', 'application/json; charset=utf-8');
  if (!bodyless) headers.set('content-length', String(Buffer.byteLength(payload)));
  // Ends keep-alive during shutdown, so close() need not wait out keepAliveTimeout.
  if (closeConnection) headers.set('connection', 'close');
  res.writeHead(r.status, Object.fromEntries(headers));
  res.end(payload);
}

/**
 * Reads the body up to `limit` bytes. Past the limit the rest is drained and discarded rather than the socket
 * destroyed: closing with unread input makes the kernel send RST, which can drop the 413 before the client
 * reads it. A client that never stops sending is cut off by requestTimeout.
 */
function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  // node:http has already rejected malformed Content-Length values.
  if (Number(req.headers['content-length'] ?? 0) > limit) {
    req.resume();
    return Promise.resolve({ kind: 'too_large' });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: BodyRead): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onAbort);
      req.off('error', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        done({ kind: 'too_large' });
        req.resume();
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => done({ kind: 'ok', bytes: Buffer.concat(chunks, size) });
    // 'close' before 'end' means the client went away mid-body; 'error' carries the same news.
    const onAbort = (): void => done({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onAbort);
    req.on('error', onAbort);
  });
}
