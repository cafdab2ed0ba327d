/**
 * Server reflection against the real binary, the way grpcurl uses it: list the services, fetch every file
 * descriptor they need, build a registry from those alone and invoke methods dynamically (schemas from the
 * registry, raw bytes over a generic grpc-js client). Both reflection v1 and v1alpha. Addresses 127.0.26.x
 * (none needed: the node runs without backends).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FileRegistry } from '@bufbuild/protobuf';
import {
  createReflectionClient,
  invokeDynamic,
  type ReflectionClient,
} from '../../internal/grpc/testkit/reflection-client.js';
import { gslbConfig } from '../testkit/config.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';

const SERVICES = [
  'grpc.health.v1.Health',
  'grpc.reflection.v1.ServerReflection',
  'grpc.reflection.v1alpha.ServerReflection',
  'opengslb.v1.AgentService',
  'opengslb.v1.OverwatchService',
];

describe('gRPC server reflection on the real binary', () => {
  let run: RunningOpengslb | undefined;

  before(async () => {
    run = await startOpengslb({ config: (ports) => gslbConfig(ports, { regions: [], domains: [] }) });
  });

  after(async () => {
    await run?.stop();
  });

  for (const version of ['v1', 'v1alpha'] as const) {
    describe(`reflection ${version}`, () => {
      let client: ReflectionClient | undefined;
      let registry: FileRegistry | undefined;
      let address = '';

      before(async () => {
        assert.ok(run);
        address = `127.0.0.1:${run.ports.grpc}`;
        client = createReflectionClient(address, { version });
      });

      after(() => client?.close());

      it('lists every service', async () => {
        assert.ok(client);
        const listed = await client.listServices();
        for (const s of SERVICES) assert.ok(listed.includes(s), `${s} listed in ${JSON.stringify(listed)}`);
      });

      it('serves every descriptor the services need, imports included', async () => {
        assert.ok(client);
        const names = await client.listServices();
        const files = await client.collectFiles(names);
        for (const f of [
          'google/protobuf/duration.proto',
          'opengslb/v1/types.proto',
          'opengslb/v1/admin.proto',
        ])
          assert.ok(files.has(f), `${f} among ${[...files.keys()].join(', ')}`);
        registry = await client.registry(names);
        for (const name of names) {
          const service = registry.getService(name);
          assert.ok(service, `service ${name} resolves from reflection alone`);
          for (const m of service.methods) {
            assert.ok(registry.getMessage(m.input.typeName), `${name}/${m.name} input resolves`);
            assert.ok(registry.getMessage(m.output.typeName), `${name}/${m.name} output resolves`);
          }
        }
      });

      it('invokes OverwatchService/GetClusterStatus dynamically', async () => {
        assert.ok(registry, 'registry built by the previous test');
        const status = (await invokeDynamic(
          address,
          registry,
          'opengslb.v1.OverwatchService/GetClusterStatus',
          {},
        )) as Record<string, unknown>;
        assert.equal(status['mode'], 'standalone');
        assert.equal(status['is_leader'], true);
        assert.equal(status['state'], 'leader');
        assert.equal(status['cluster_size'], 1);
        assert.equal(status['leader_id'], status['node_id']);
      });

      it('invokes grpc.health.v1.Health/Check dynamically, overall and per service', async () => {
        assert.ok(registry, 'registry built by the previous test');
        for (const service of ['', 'opengslb.v1.AgentService', 'opengslb.v1.OverwatchService']) {
          const answer = await invokeDynamic(address, registry, 'grpc.health.v1.Health/Check', { service });
          assert.deepEqual(answer, { status: 'SERVING' }, `Health/Check ${JSON.stringify(service)}`);
        }
      });
    });
  }
});
