import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import {
  GrpcError,
  grpcErrorFromCall,
  INTERNAL_ERROR_DETAILS,
  statusFromError,
  statusName,
} from './grpc-error.js';
import { recordingLogger } from './testkit/loopback.js';

describe('statusName', () => {
  const cases: [number, string][] = [
    [status.OK, 'OK'],
    [status.NOT_FOUND, 'NOT_FOUND'],
    [status.UNAVAILABLE, 'UNAVAILABLE'],
    [99, 'CODE_99'],
  ];
  for (const [code, want] of cases) it(want, () => assert.equal(statusName(code), want));
});

describe('GrpcError', () => {
  it('carries code, message, metadata and cause', () => {
    const metadata = new Metadata();
    const cause = new Error('root');
    const e = new GrpcError(status.UNAUTHENTICATED, 'missing token', { cause, metadata });
    assert.equal(e.code, status.UNAUTHENTICATED);
    assert.equal(e.message, 'missing token');
    assert.equal(e.metadata, metadata);
    assert.equal(e.cause, cause);
    assert.equal(e.name, 'GrpcError');
    assert.equal(String(e), 'UNAUTHENTICATED: missing token');
  });
});

describe('statusFromError', () => {
  const fields = { method: '/x.Y/Z', peer: '127.0.0.1:1' };

  it('keeps a GrpcError as is and logs nothing', () => {
    const { log, lines } = recordingLogger();
    assert.deepEqual(statusFromError(new GrpcError(status.NOT_FOUND, 'nope'), false, log, fields), {
      code: status.NOT_FOUND,
      details: 'nope',
    });
    assert.deepEqual(lines, []);
  });

  it('reports CANCELLED without logging when the call was cancelled', () => {
    const { log, lines } = recordingLogger();
    assert.deepEqual(statusFromError(new Error('stream closed'), true, log, fields), {
      code: status.CANCELLED,
      details: 'call cancelled',
    });
    assert.deepEqual(lines, []);
  });

  it('hides other errors behind INTERNAL and logs them with the method and peer', () => {
    const { log, lines } = recordingLogger();
    assert.deepEqual(statusFromError(new TypeError('x is undefined'), false, log, fields), {
      code: status.INTERNAL,
      details: INTERNAL_ERROR_DETAILS,
    });
    assert.equal(lines.length, 1);
    assert.equal(lines[0]?.err?.message, 'x is undefined');
    assert.equal(lines[0]?.['method'], '/x.Y/Z');
    assert.equal(lines[0]?.['peer'], '127.0.0.1:1');
  });
});

describe('grpcErrorFromCall', () => {
  it('converts a grpc-js ServiceError, keeping it as cause', () => {
    const metadata = new Metadata();
    const serviceError = Object.assign(new Error('14 UNAVAILABLE: connection refused'), {
      code: status.UNAVAILABLE,
      details: 'connection refused',
      metadata,
    });
    const e = grpcErrorFromCall(serviceError);
    assert.equal(e.code, status.UNAVAILABLE);
    assert.equal(e.message, 'connection refused');
    assert.equal(e.metadata, metadata);
    assert.equal(e.cause, serviceError);
  });

  it('passes a GrpcError through and wraps anything else as UNKNOWN', () => {
    const original = new GrpcError(status.ABORTED, 'x');
    assert.equal(grpcErrorFromCall(original), original);
    const e = grpcErrorFromCall(new Error('weird'));
    assert.equal(e.code, status.UNKNOWN);
    assert.equal(e.message, 'weird');
  });
});
