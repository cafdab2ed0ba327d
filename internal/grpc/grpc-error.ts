import type { Metadata, StatusObject } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';

/**
 * A gRPC status as an Error, used on both sides of a call. Server handlers throw it to end the call with `code`
 * and `message` as the status details (`new GrpcError(status.UNAUTHENTICATED, 'missing bearer token')`); typed
 * clients reject with it when a call ends with a non-OK status, keeping the grpc-js error as `cause`.
 */
export class GrpcError extends Error {
  /** The gRPC status code (`status.NOT_FOUND`, ...). */
  readonly code: status;
  /** Trailing metadata sent with (server) or received with (client) the status, if any. */
  readonly metadata: Metadata | undefined;

  constructor(code: status, message: string, options?: { cause?: unknown; metadata?: Metadata }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GrpcError';
    this.code = code;
    this.metadata = options?.metadata;
  }

  /** `NOT_FOUND: unknown service "x"`: the status name then the details, for logs and CLI output. */
  override toString(): string {
    return `${statusName(this.code)}: ${this.message}`;
  }
}

/** The canonical name of a status code (`UNAVAILABLE`), or `CODE_<n>` for a number outside the enum. */
export function statusName(code: number): string {
  const name: unknown = (status as unknown as Record<number, unknown>)[code];
  return typeof name === 'string' ? name : `CODE_${code}`;
}

/** Details sent for any handler failure that is not a GrpcError; the real error goes to the log only. */
export const INTERNAL_ERROR_DETAILS = 'internal error';

/**
 * The one translator from a handler failure to the status the caller sees. A GrpcError keeps its code and
 * message; a failure after the call was cancelled becomes CANCELLED quietly (the caller is gone); anything else
 * is a bug or an unexpected condition: INTERNAL with a generic message, the error logged at `error`.
 */
export function statusFromError(
  e: unknown,
  cancelled: boolean,
  log: Logger,
  fields: { method: string; peer: string },
): Partial<StatusObject> {
  if (e instanceof GrpcError) {
    return e.metadata === undefined
      ? { code: e.code, details: e.message }
      : { code: e.code, details: e.message, metadata: e.metadata };
  }
  if (cancelled) return { code: status.CANCELLED, details: 'call cancelled' };
  log.error({ err: e, ...fields }, 'gRPC handler failed');
  return { code: status.INTERNAL, details: INTERNAL_ERROR_DETAILS };
}

/**
 * Converts what a grpc-js client call failed with (a ServiceError: Error with `code`, `details`, `metadata`) into
 * a GrpcError; anything without a numeric code becomes UNKNOWN.
 */
export function grpcErrorFromCall(e: unknown): GrpcError {
  if (e instanceof GrpcError) return e;
  if (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'number') {
    const details = 'details' in e && typeof e.details === 'string' ? e.details : String(e);
    const metadata = 'metadata' in e ? (e.metadata as Metadata) : undefined;
    return new GrpcError(e.code, details, metadata === undefined ? { cause: e } : { cause: e, metadata });
  }
  return new GrpcError(status.UNKNOWN, e instanceof Error ? e.message : String(e), { cause: e });
}
