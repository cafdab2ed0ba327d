import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metadata } from '@grpc/grpc-js';

/** `Bearer` scheme, case-insensitive (RFC 7235 §2.1), then at least one space and the token. */
const BEARER = /^bearer +(\S+) *$/i;

/**
 * The token of the first `authorization: Bearer <token>` metadata entry, or undefined when the entry is
 * missing, binary, another scheme, or has an empty token. Keys are case-insensitive: grpc-js lower-cases them.
 */
export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  return BEARER.exec(value)?.[1];
}

/**
 * Compares two secrets in constant time. Both are hashed with SHA-256 first so the comparison runs over equal
 * lengths and neither the length of the expected token nor the position of the first difference leaks.
 * Two empty strings are equal: callers must treat an empty configured token as "no token", not as a match.
 */
export function tokensEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
