import type { ApiResponse } from './router.js';

/** The JSON error envelope every non-2xx response of the API uses. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}

/**
 * Builds an error response: `{"error":{"code":code,"message":message}}` with the given status.
 * `code` is a stable snake_case identifier clients may branch on; `message` is for people.
 */
export function apiError(
  status: number,
  code: string,
  message: string,
  headers?: Record<string, string>,
): ApiResponse {
  const body: ApiErrorBody = { error: { code, message } };
  return headers === undefined ? { status, body } : { status, body, headers };
}

/**
 * Thrown by a handler to answer with {@link apiError}(status, code, message, headers) instead of a 500.
 * Its message is sent to the client, so it must not carry secrets; the server keeps `cause` out of the reply.
 */
export class ApiHttpError extends Error {
  override readonly name = 'ApiHttpError';
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    code: string,
    message: string,
    opts?: { headers?: Record<string, string>; cause?: unknown },
  ) {
    super(message, opts?.cause === undefined ? undefined : { cause: opts.cause });
    this.status = status;
    this.code = code;
    this.headers = opts?.headers;
  }

  /** The response this error stands for. */
  toResponse(): ApiResponse {
    return apiError(this.status, this.code, this.message, this.headers);
  }
}
