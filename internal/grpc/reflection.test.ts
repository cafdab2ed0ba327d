import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { create, createFileRegistry, toBinary } from '@bufbuild/protobuf';
import type { FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { status } from '@grpc/grpc-js';
import { file_grpc_health_v1_health, Health } from '../gen/grpc/health/v1/health_pb.js';
import { ServerReflection as ReflectionV1 } from '../gen/grpc/reflection/v1/reflection_pb.js';
import { ServerReflection as ReflectionV1alpha } from '../gen/grpc/reflection/v1alpha/reflection_pb.js';
import { file_opengslb_v1_admin, OverwatchService } from '../gen/opengslb/v1/admin_pb.js';
import { AgentService, file_opengslb_v1_agent } from '../gen/opengslb/v1/agent_pb.js';
import type { ServiceClient } from './client.js';
import { addHealth } from './health.js';
import type { ReflectionAnswer, ReflectionQuery } from './reflection.js';
import { addReflection, createReflectionIndex } from './reflection.js';
import type { Loopback } from './testkit/loopback.js';
import { startLoopback, within } from './testkit/loopback.js';
import { dependencyOrder, descriptorsOf, invokeDynamic } from './testkit/reflection-client.js';

const FILES = [file_opengslb_v1_agent, file_opengslb_v1_admin, file_grpc_health_v1_health];
const SERVICES = [AgentService.typeName, OverwatchService.typeName, Health.typeName];

/** One reflection request/response exchange at a time over a single stream, as grpcurl does. */
type Ask = (query: ReflectionQuery) => Promise<ReflectionAnswer>;

function reflectionSession(lb: Loopback, version: 'v1' | 'v1alpha'): Ask {
  // Both versions have the same shape; the v1 types stand for either.
  const client =
    version === 'v1'
      ? lb.client(ReflectionV1)
      : (lb.client(ReflectionV1alpha) as unknown as ServiceClient<typeof ReflectionV1>);
  const stream = client.serverReflectionInfo();
  lb.beforeClose(() => stream.cancel());
  const responses = stream[Symbol.asyncIterator]();
  return async (query) => {
    stream.send({ host: 'probe', messageRequest: query });
    const next = await within(responses.next(), 5000, `an answer to ${query.case}`);
    assert.equal(next.done, false);
    assert.equal(next.value.validHost, 'probe');
    assert.equal(next.value.originalRequest?.messageRequest.case, query.case, 'original request echoed');
    return next.value.messageResponse as ReflectionAnswer;
  };
}

for (const version of ['v1', 'v1alpha'] as const) {
  describe(`server reflection ${version}`, () => {
    async function start(t: TestContext) {
      const lb = await startLoopback(t, (server, log) => {
        addHealth(server, log);
        addReflection(server, FILES, SERVICES, log);
      });
      return { address: lb.address, ask: reflectionSession(lb, version) };
    }

    it('lets a grpcurl-like client rebuild every service and call Health/Check dynamically', async (t) => {
      const { address, ask } = await start(t);
      const listed = await ask({ case: 'listServices', value: '' });
      assert.equal(listed.case, 'listServicesResponse');
      const names = listed.value.service.map((s) => s.name);
      assert.deepEqual(names, [
        'grpc.health.v1.Health',
        'grpc.reflection.v1.ServerReflection',
        'grpc.reflection.v1alpha.ServerReflection',
        'opengslb.v1.AgentService',
        'opengslb.v1.OverwatchService',
      ]);

      const collected = new Map<string, FileDescriptorProto>();
      for (const name of names) {
        const files = descriptorsOf(await ask({ case: 'fileContainingSymbol', value: name }));
        const first = files[0];
        assert.ok(first !== undefined);
        const pkg = first.package === '' ? '' : `${first.package}.`;
        assert.ok(
          first.service.some((s) => pkg + s.name === name),
          `first descriptor (${first.name}) declares ${name}`,
        );
        for (const f of files) collected.set(f.name, f);
      }
      // Follow imports by file name until closed, as a client without the full response would.
      for (let open = true; open; ) {
        open = false;
        for (const f of [...collected.values()]) {
          for (const dep of f.dependency) {
            if (collected.has(dep)) continue;
            for (const d of descriptorsOf(await ask({ case: 'fileByFilename', value: dep })))
              collected.set(d.name, d);
            open = true;
          }
        }
      }
      assert.ok(collected.has('google/protobuf/duration.proto'), 'well-known imports are served');
      assert.ok(collected.has('opengslb/v1/types.proto'), 'transitive imports are served');

      // A FileDescriptorSet must list imports before their importers.
      for (const f of collected.values())
        for (const dep of f.dependency)
          assert.ok(collected.has(dep), `${f.name} imports ${dep}, which reflection served`);
      const ordered = dependencyOrder(collected);
      const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: ordered }));
      for (const name of names) {
        const service = registry.getService(name);
        assert.ok(service !== undefined, `service ${name} resolves`);
        for (const m of service.methods) {
          assert.ok(registry.getMessage(m.input.typeName), `${name}.${m.name} input resolves`);
          assert.ok(registry.getMessage(m.output.typeName), `${name}.${m.name} output resolves`);
        }
      }

      const check = registry.getService('grpc.health.v1.Health')?.methods.find((m) => m.name === 'Check');
      assert.ok(check !== undefined);
      const answer = await invokeDynamic(address, registry, 'grpc.health.v1.Health/Check', { service: '' });
      const statusField = check.output.fields.find((f) => f.name === 'status');
      assert.equal(statusField?.fieldKind, 'enum');
      assert.deepEqual(answer, { status: 'SERVING' });
    });

    it('resolves every kind of symbol to its file', async (t) => {
      const { ask } = await start(t);
      const cases: [string, string][] = [
        ['grpc.health.v1.Health.Check', 'grpc/health/v1/health.proto'],
        ['grpc.health.v1.HealthListResponse.StatusesEntry', 'grpc/health/v1/health.proto'],
        ['grpc.health.v1.HealthCheckResponse.ServingStatus', 'grpc/health/v1/health.proto'],
        ['grpc.health.v1.HealthCheckResponse.SERVING', 'grpc/health/v1/health.proto'],
        ['opengslb.v1.Hello.agent_id', 'opengslb/v1/agent.proto'],
        ['opengslb.v1.ConnectRequest.message', 'opengslb/v1/agent.proto'],
        ['.opengslb.v1.BackendRef', 'opengslb/v1/types.proto'],
        ['google.protobuf.Duration', 'google/protobuf/duration.proto'],
      ];
      for (const [symbol, file] of cases) {
        const files = descriptorsOf(await ask({ case: 'fileContainingSymbol', value: symbol }));
        assert.equal(files[0]?.name, file, `file of ${symbol}`);
        assert.equal(
          new Set(files.map((f) => f.name)).size,
          files.length,
          `no duplicate files for ${symbol}`,
        );
      }
      const agent = descriptorsOf(await ask({ case: 'fileByFilename', value: 'opengslb/v1/agent.proto' }));
      assert.deepEqual(
        agent.map((f) => f.name),
        ['opengslb/v1/agent.proto', 'google/protobuf/duration.proto', 'opengslb/v1/types.proto'],
      );
    });

    it('answers NOT_FOUND for unknown names and handles extension queries', async (t) => {
      const { ask } = await start(t);
      const cases: [ReflectionQuery, ReflectionAnswer][] = [
        [
          { case: 'fileContainingSymbol', value: 'opengslb.v1.Nope' },
          {
            case: 'errorResponse',
            value: { errorCode: status.NOT_FOUND, errorMessage: 'symbol "opengslb.v1.Nope" not found' },
          },
        ],
        [
          { case: 'fileByFilename', value: 'nope.proto' },
          {
            case: 'errorResponse',
            value: { errorCode: status.NOT_FOUND, errorMessage: 'file "nope.proto" not found' },
          },
        ],
        [
          {
            case: 'fileContainingExtension',
            value: { containingType: 'opengslb.v1.Hello', extensionNumber: 100 },
          },
          {
            case: 'errorResponse',
            value: {
              errorCode: status.NOT_FOUND,
              errorMessage: 'extension 100 of "opengslb.v1.Hello" not found',
            },
          },
        ],
        [
          { case: 'allExtensionNumbersOfType', value: 'opengslb.v1.Hello' },
          {
            case: 'allExtensionNumbersResponse',
            value: { baseTypeName: 'opengslb.v1.Hello', extensionNumber: [] },
          },
        ],
        [
          { case: 'allExtensionNumbersOfType', value: 'opengslb.v1.Nope' },
          {
            case: 'errorResponse',
            value: { errorCode: status.NOT_FOUND, errorMessage: 'message type "opengslb.v1.Nope" not found' },
          },
        ],
      ];
      for (const [query, want] of cases) {
        const got = await ask(query);
        const { $typeName: _, ...value } = got.value as { $typeName?: string };
        assert.deepEqual({ case: got.case, value }, want, `answer to ${JSON.stringify(query)}`);
      }
    });
  });
}

describe('createReflectionIndex', () => {
  it('refuses a service name no file declares', () => {
    assert.throws(() => createReflectionIndex(FILES, ['opengslb.v1.Missing']), {
      message: 'reflection: service opengslb.v1.Missing is not declared in any of the given files',
    });
    // A message name is a symbol, but not a service.
    assert.throws(() => createReflectionIndex(FILES, ['opengslb.v1.Hello']), /not declared/);
  });

  it('answers an empty request with INVALID_ARGUMENT', () => {
    const index = createReflectionIndex(FILES, SERVICES);
    const got = index.answer({ case: undefined });
    assert.equal(got.case, 'errorResponse');
    assert.equal(got.value.errorCode, status.INVALID_ARGUMENT);
  });

  it('serves descriptors that round-trip to the generated ones', () => {
    const got = createReflectionIndex(FILES, SERVICES).answer({
      case: 'fileByFilename',
      value: 'grpc/health/v1/health.proto',
    });
    const first = descriptorsOf(got)[0];
    assert.ok(first !== undefined);
    assert.deepEqual(
      toBinary(FileDescriptorProtoSchema, first),
      toBinary(FileDescriptorProtoSchema, file_grpc_health_v1_health.proto),
    );
  });
});
