import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { DescService } from '@bufbuild/protobuf';
import { create, createFileRegistry } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { ServiceError } from '@grpc/grpc-js';
import { Client, credentials, type Metadata, Server, status } from '@grpc/grpc-js';
import {
  file_grpc_health_v1_health,
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../gen/grpc/health/v1/health_pb.js';
import { AgentService } from '../gen/opengslb/v1/agent_pb.js';
import { GrpcError, INTERNAL_ERROR_DETAILS } from './grpc-error.js';
import type { ServiceImpl } from './service.js';
import { addService, implement, methodPath, serviceDefinition } from './service.js';
import { recordingLogger, startLoopback, within } from './testkit/loopback.js';

/** A Health implementation whose Check answers depend on the service name, to exercise error paths. */
function scriptedHealth(seen: { metadata?: Metadata; aborted?: () => void }): ServiceImpl<typeof Health> {
  return {
    check: async (request, ctx) => {
      seen.metadata = ctx.metadata;
      switch (request.service) {
        case 'missing':
          throw new GrpcError(status.NOT_FOUND, 'no such service: missing');
        case 'boom':
          throw new Error('database on fire');
        case 'slow':
          // Ends only when the call does (deadline or cancel), proving the signal fires.
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
          seen.aborted?.();
          throw new GrpcError(status.ABORTED, 'gave up');
        default:
          return { status: ServingStatus.SERVING };
      }
    },
    watch: async function* (request) {
      for (const s of [ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING]) {
        yield { status: s };
      }
      if (request.service === 'fail-after') throw new GrpcError(status.UNAVAILABLE, 'backend went away');
    },
    list: () => ({ statuses: {} }),
  };
}

async function rejectsWith(
  promise: Promise<unknown>,
  code: status,
  details?: string | RegExp,
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof GrpcError, `expected a GrpcError, got ${String(e)}`);
    assert.equal(e.code, code, `status code (details: ${e.message})`);
    if (typeof details === 'string') assert.equal(e.message, details);
    else if (details !== undefined) assert.match(e.message, details);
    return true;
  });
}

/** Sends `bytes` to `path` as the whole request, bypassing any serializer. */
function rawUnary(t: TestContext, address: string, path: string, bytes: Buffer): Promise<ServiceError> {
  const client = new Client(address, credentials.createInsecure());
  t.after(() => client.close());
  const same = (b: Buffer): Buffer => b;
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(path, same, same, bytes, (e) =>
      e ? resolve(e) : reject(new Error('call succeeded')),
    );
  });
}

// Field 1 (length-delimited) claims 5 bytes but only 1 follows: not a valid protobuf message.
const GARBAGE = Buffer.from([0x0a, 0x05, 0x61]);

describe('serviceDefinition', () => {
  it('maps paths, streaming flags and names from the descriptor', () => {
    const def = serviceDefinition(Health);
    const rows = Object.entries(def).map(([key, m]) => [
      key,
      m.path,
      m.originalName,
      m.requestStream,
      m.responseStream,
    ]);
    assert.deepEqual(rows, [
      ['check', '/grpc.health.v1.Health/Check', 'Check', false, false],
      ['watch', '/grpc.health.v1.Health/Watch', 'Watch', false, true],
      ['list', '/grpc.health.v1.Health/List', 'List', false, false],
    ]);
    assert.equal(methodPath(AgentService.method.connect), '/opengslb.v1.AgentService/Connect');
    assert.equal(serviceDefinition(AgentService)['connect']?.requestStream, true);
  });

  it('serializes init shapes and decodes them back', () => {
    const check = serviceDefinition(Health)['check'];
    assert.ok(check !== undefined);
    const decoded = check.requestDeserialize(check.requestSerialize({ service: 'dns' })) as {
      service: string;
    };
    assert.equal(decoded.service, 'dns');
  });
});

describe('implement', () => {
  it('types handlers from the generated descriptor', () => {
    const impl: ServiceImpl<typeof Health> = {
      // @ts-expect-error Check answers a HealthCheckResponse (init), not a string
      check: () => 'SERVING',
      // @ts-expect-error Watch is server streaming: it must return an AsyncIterable
      watch: () => ({ status: ServingStatus.SERVING }),
      // @ts-expect-error the request is a HealthListRequest, which has no `service` field
      list: (request) => ({ statuses: { [request.service]: { status: ServingStatus.SERVING } } }),
    };
    assert.equal(typeof impl.check, 'function');
  });

  it('refuses an implementation that misses a method', () => {
    const partial = { check: () => ({}) } as unknown as ServiceImpl<typeof Health>;
    assert.throws(() => implement(Health, partial, { log: recordingLogger().log }), {
      message: 'gRPC: no handler for grpc.health.v1.Health.Watch (expected impl.watch)',
    });
  });
});

describe('implement over a real server', () => {
  it('answers unary calls and passes metadata to the handler', async (t) => {
    const seen: { metadata?: Metadata } = {};
    const lb = await startLoopback(t, (server, log) =>
      addService(server, Health, scriptedHealth(seen), { log }),
    );
    const client = lb.client(Health);
    const response = await client.check({ service: 'dns' }, { metadata: { authorization: 'Bearer s3cret' } });
    assert.equal(response.status, ServingStatus.SERVING);
    assert.deepEqual(seen.metadata?.get('authorization'), ['Bearer s3cret']);
  });

  it('turns a thrown GrpcError into that status and message, unlogged', async (t) => {
    const lb = await startLoopback(t, (server, log) =>
      addService(server, Health, scriptedHealth({}), { log }),
    );
    await rejectsWith(
      lb.client(Health).check({ service: 'missing' }),
      status.NOT_FOUND,
      'no such service: missing',
    );
    assert.deepEqual(
      lb.lines.filter((l) => l.level >= 40),
      [],
      'no warning or error logged',
    );
  });

  it('turns any other throw into INTERNAL with a generic message and logs the error', async (t) => {
    const lb = await startLoopback(t, (server, log) =>
      addService(server, Health, scriptedHealth({}), { log }),
    );
    await rejectsWith(lb.client(Health).check({ service: 'boom' }), status.INTERNAL, INTERNAL_ERROR_DETAILS);
    const logged = lb.lines.filter((l) => l.msg === 'gRPC handler failed');
    assert.equal(logged.length, 1, `one error line, got ${JSON.stringify(lb.lines)}`);
    assert.equal(logged[0]?.level, 50);
    assert.equal(logged[0]?.err?.message, 'database on fire');
    assert.equal(logged[0]?.['method'], '/grpc.health.v1.Health/Check');
  });

  it('aborts the handler signal at the deadline', async (t) => {
    const lb = await startLoopback(t, (server, log) =>
      addService(server, Health, scriptedHealth({}), { log }),
    );
    await rejectsWith(
      lb.client(Health).check({ service: 'slow' }, { timeoutMs: 50 }),
      status.DEADLINE_EXCEEDED,
    );
  });

  it('streams server responses, then OK or the thrown status', async (t) => {
    const lb = await startLoopback(t, (server, log) =>
      addService(server, Health, scriptedHealth({}), { log }),
    );
    const client = lb.client(Health);
    const got: ServingStatus[] = [];
    for await (const r of client.watch({ service: 'x' })) got.push(r.status);
    assert.deepEqual(got, [ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.SERVING]);

    const before: ServingStatus[] = [];
    await rejectsWith(
      (async () => {
        for await (const r of client.watch({ service: 'fail-after' })) before.push(r.status);
      })(),
      status.UNAVAILABLE,
      'backend went away',
    );
    assert.equal(before.length, 3, 'messages sent before the error are delivered');
  });

  it('runs a bidi stream (AgentService.Connect echo)', async (t) => {
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        AgentService,
        {
          connect: async function* (requests) {
            for await (const r of requests) {
              if (r.message.case === 'hello') {
                yield {
                  message: { case: 'welcome', value: { nodeId: `node-for-${r.message.value.agentId}` } },
                };
              } else if (r.message.case === 'report') {
                yield { message: { case: 'ack', value: { sequence: r.message.value.sequence } } };
              } else if (r.message.case === 'goodbye') {
                return;
              }
            }
          },
        },
        { log },
      ),
    );
    const stream = lb.client(AgentService).connect();
    stream.send({ message: { case: 'hello', value: { agentId: 'a1' } } });
    stream.send({ message: { case: 'report', value: { sequence: 1n } } });
    stream.send({ message: { case: 'report', value: { sequence: 2n } } });
    stream.send({ message: { case: 'goodbye', value: { reason: 'done' } } });
    stream.end();
    const got: string[] = [];
    for await (const r of stream) {
      const m = r.message;
      got.push(
        m.case === 'welcome'
          ? `welcome ${m.value.nodeId}`
          : m.case === 'ack'
            ? `ack ${m.value.sequence}`
            : `${m.case}`,
      );
    }
    assert.deepEqual(got, ['welcome node-for-a1', 'ack 1', 'ack 2']);
  });

  it('answers INVALID_ARGUMENT to undecodable unary requests and keeps serving', async (t) => {
    const lb = await startLoopback(t, (server, log) =>
      addService(server, Health, scriptedHealth({}), { log }),
    );
    const e = await rawUnary(t, lb.address, '/grpc.health.v1.Health/Check', GARBAGE);
    assert.equal(e.code, status.INVALID_ARGUMENT, e.details);
    assert.match(e.details, /^cannot decode grpc\.health\.v1\.HealthCheckRequest: /);
    assert.equal(lb.lines.filter((l) => l.msg === 'gRPC request not decodable').length, 1);
    const ok = await lb.client(Health).check({ service: '' });
    assert.equal(ok.status, ServingStatus.SERVING);
  });

  it('answers INVALID_ARGUMENT to an undecodable message inside a bidi stream', async (t) => {
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        AgentService,
        {
          connect: async function* (requests) {
            for await (const _ of requests) yield { message: { case: 'ack', value: { sequence: 0n } } };
          },
        },
        { log },
      ),
    );
    const client = new Client(lb.address, credentials.createInsecure());
    t.after(() => client.close());
    const same = (b: Buffer): Buffer => b;
    const call = client.makeBidiStreamRequest('/opengslb.v1.AgentService/Connect', same, same);
    const ended = new Promise<ServiceError>((resolve) => call.on('error', resolve));
    call.on('data', () => {});
    call.write(Buffer.alloc(0)); // an empty ConnectRequest is valid
    call.write(GARBAGE);
    const e = await within(ended, 5000, 'the stream to fail');
    assert.equal(e.code, status.INVALID_ARGUMENT, e.details);
  });

  it('serves a client-streaming method (dynamic descriptor)', async (t) => {
    const proto = create(FileDescriptorProtoSchema, {
      name: 'test/tally.proto',
      package: 'test',
      syntax: 'proto3',
      dependency: ['grpc/health/v1/health.proto'],
      service: [
        {
          name: 'Tally',
          method: [
            {
              name: 'Count',
              inputType: '.grpc.health.v1.HealthCheckRequest',
              outputType: '.grpc.health.v1.HealthCheckResponse',
              clientStreaming: true,
            },
          ],
        },
      ],
    });
    const registry = createFileRegistry(proto, (name) =>
      name === file_grpc_health_v1_health.proto.name ? file_grpc_health_v1_health : undefined,
    );
    const tally = registry.getService('test.Tally');
    assert.ok(tally !== undefined);
    // A descriptor built at run time carries no static types, so the handler is typed by hand.
    const impl = {
      count: async (requests: AsyncIterable<{ service: string }>) => {
        let n = 0;
        for await (const r of requests) n += r.service.length;
        return { status: n };
      },
    } as unknown as ServiceImpl<DescService>;
    const lb = await startLoopback(t, (server, log) => server.addService(...implement(tally, impl, { log })));
    const client = lb.client(tally) as unknown as {
      count(requests: Iterable<{ service: string }>): Promise<{ status: number }>;
    };
    const response = await client.count([{ service: 'a' }, { service: 'bb' }]);
    assert.equal(response.status, 3);
  });
});

describe('addService', () => {
  it('registers on a server that is not started', () => {
    const server = new Server();
    addService(server, Health, scriptedHealth({}), { log: recordingLogger().log });
    assert.throws(
      () => server.addService(...implement(Health, scriptedHealth({}), { log: recordingLogger().log })),
      /already/,
    );
  });
});
