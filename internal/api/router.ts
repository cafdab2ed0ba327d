import type { IncomingHttpHeaders } from 'node:http';

/** HTTP methods a {@link Route} may serve. */
export type HttpMethod = 'GET' | 'PUT' | 'POST' | 'DELETE';

/** What a handler sees of a request. */
export interface ApiRequest {
  /** Path parameters by name, percent-decoded (`[2001:db8::1]:80`); never empty, never containing `/`. */
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON object of a PUT/POST body, or undefined when the request had no body. */
  body: unknown;
  /** The peer's address, with IPv4-mapped IPv6 shown as plain IPv4 (`10.1.2.3`, not `::ffff:10.1.2.3`). */
  remoteAddress: string;
}

/** What a handler returns; the server serialises `body` as compact JSON plus a newline. */
export interface ApiResponse {
  /** Final HTTP status, 200..599. 204 and 304 are sent without a body. */
  status: number;
  /** Any JSON-serialisable value; `undefined` sends an empty body. */
  body: unknown;
  /** Extra response headers. `content-type` and `content-length` are always the server's. */
  headers?: Record<string, string>;
}

/** One endpoint: a method plus a path pattern whose `:name` segments become {@link ApiRequest.params}. */
export interface Route {
  method: HttpMethod;
  /** Absolute pattern, e.g. `/api/v1/overrides/:service/:target`; a parameter fills one whole segment. */
  path: string;
  handler: (req: ApiRequest) => ApiResponse | Promise<ApiResponse>;
}

/** Result of {@link Router.match}; `pattern` is the route's path, fit for a low-cardinality metric label. */
export type RouteMatch<R extends Route> =
  | { kind: 'found'; route: R; params: Record<string, string> }
  | { kind: 'method_not_allowed'; pattern: string; allow: HttpMethod[] }
  | { kind: 'not_found' }
  | { kind: 'bad_path'; message: string };

/** Matches request paths against a fixed route table. */
export interface Router<R extends Route> {
  /** `pathname` is the raw (still percent-encoded) path of the request target, without the query. */
  match(method: string, pathname: string): RouteMatch<R>;
}

type Segment = { literal: string } | { param: string };

const METHOD_ORDER: readonly HttpMethod[] = ['GET', 'PUT', 'POST', 'DELETE'];
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Compiles a route table. Routes are tried in order and the first whose pattern and method both match wins,
 * so list `/things/count` before `/things/:id`. Paths match exactly: no trailing-slash or case folding.
 * Each raw path segment is percent-decoded on its own, so `%2F` can never split a segment; a parameter that
 * decodes to something containing `/` is reported as `bad_path`.
 * @throws Error for a malformed pattern or a duplicate (method, pattern shape) pair.
 */
export function createRouter<R extends Route>(routes: readonly R[]): Router<R> {
  const compiled = routes.map((route) => ({ route, segments: compilePattern(route.path) }));
  const seen = new Set<string>();
  for (const { route, segments } of compiled) {
    const shape = `${route.method} ${segments.map((s) => ('literal' in s ? s.literal : ':')).join('/')}`;
    if (seen.has(shape)) throw new Error(`duplicate route ${route.method} ${route.path}`);
    seen.add(shape);
  }

  return {
    match(method, pathname) {
      if (!pathname.startsWith('/')) return { kind: 'not_found' };
      const decoded: string[] = [];
      for (const segment of pathname.split('/').slice(1)) {
        try {
          decoded.push(decodeURIComponent(segment));
        } catch (e: unknown) {
          if (!(e instanceof URIError)) throw e;
          return {
            kind: 'bad_path',
            message: `path segment "${segment}" is not valid percent-encoded UTF-8`,
          };
        }
      }
      let first: { pattern: string; methods: Set<HttpMethod> } | undefined;
      for (const { route, segments } of compiled) {
        const params = bind(segments, decoded);
        if (params === undefined) continue;
        if (typeof params === 'string') return { kind: 'bad_path', message: params };
        if (route.method === method) return { kind: 'found', route, params };
        first ??= { pattern: route.path, methods: new Set() };
        first.methods.add(route.method);
      }
      if (first === undefined) return { kind: 'not_found' };
      return {
        kind: 'method_not_allowed',
        pattern: first.pattern,
        allow: METHOD_ORDER.filter((m) => first.methods.has(m)),
      };
    },
  };
}

function compilePattern(path: string): Segment[] {
  if (!path.startsWith('/')) throw new Error(`route path "${path}" must start with "/"`);
  const names = new Set<string>();
  return path
    .split('/')
    .slice(1)
    .map((part) => {
      if (!part.startsWith(':')) return { literal: part };
      const name = part.slice(1);
      if (!PARAM_NAME.test(name)) {
        throw new Error(`route path "${path}": parameter ":${name}" must match ${PARAM_NAME.source}`);
      }
      if (names.has(name)) throw new Error(`route path "${path}": parameter ":${name}" appears twice`);
      names.add(name);
      return { param: name };
    });
}

/** Params when `decoded` fits the pattern, undefined when it does not, a message when a param holds a "/". */
function bind(
  segments: readonly Segment[],
  decoded: readonly string[],
): Record<string, string> | string | undefined {
  if (segments.length !== decoded.length) return undefined;
  const params: [string, string][] = [];
  for (const [i, segment] of segments.entries()) {
    const value = decoded[i] ?? '';
    if ('literal' in segment) {
      if (segment.literal !== value) return undefined;
    } else {
      if (value === '') return undefined;
      if (value.includes('/'))
        return `path parameter "${segment.param}" must not contain "/", got "${value}"`;
      params.push([segment.param, value]);
    }
  }
  // fromEntries defines own properties, so a parameter named __proto__ cannot reach the prototype.
  return Object.fromEntries(params);
}
