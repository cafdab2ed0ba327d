import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { credentials, ServerCredentials, status } from '@grpc/grpc-js';
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../gen/grpc/health/v1/health_pb.js';
import { createClient } from './client.js';
import { GrpcError } from './grpc-error.js';
import { addHealth } from './health.js';
import type { GrpcServer, GrpcServerOptions } from './server.js';
import { createGrpcServer, GrpcListenError } from './server.js';
import { recordingLogger, within } from './testkit/loopback.js';

function loopbackServer(t: TestContext, extra: Partial<GrpcServerOptions> = {}) {
  const { log, lines } = recordingLogger();
  const grpc = createGrpcServer({
    host: '127.0.0.1',
    port: 0,
    credentials: ServerCredentials.createInsecure(),
    log,
    ...extra,
  });
  addHealth(grpc.server, log);
  t.after(() => grpc.close(1000));
  return { grpc, lines };
}

function healthClient(t: TestContext, port: number) {
  const client = createClient(Health, `127.0.0.1:${port}`, credentials.createInsecure());
  t.after(() => client.$close());
  return client;
}

describe('createGrpcServer', () => {
  it('names the address and errno when the port is taken', async (t) => {
    const holder = createServer();
    t.after(() => holder.close());
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    assert.ok(address !== null && typeof address === 'object');
    const { grpc } = loopbackServer(t, { port: address.port });
    await assert.rejects(grpc.start(), (e: unknown) => {
      assert.ok(e instanceof GrpcListenError, `expected GrpcListenError, got ${String(e)}`);
      assert.equal(
        e.message,
        `gRPC: cannot listen on 127.0.0.1:${address.port}: address already in use (EADDRINUSE)`,
      );
      assert.equal(e.errno, 'EADDRINUSE');
      assert.equal(e.code, 'GRPC_LISTEN');
      assert.ok(e.cause instanceof Error, 'keeps the grpc-js error as cause');
      return true;
    });
  });

  it('serves on the port it reports and refuses a second start', async (t) => {
    const { grpc, lines } = loopbackServer(t);
    const { port } = await grpc.start();
    assert.ok(port > 0);
    assert.equal((await healthClient(t, port).check({})).status, ServingStatus.SERVING);
    assert.deepEqual(
      lines.filter((l) => l.msg === 'gRPC listening').map((l) => l['address']),
      [`127.0.0.1:${port}`],
    );
    await assert.rejects(grpc.start(), { message: 'gRPC: server already started' });
  });

  it('refuses requests above maxMessageBytes with RESOURCE_EXHAUSTED', async (t) => {
    const { grpc } = loopbackServer(t, { maxMessageBytes: 1024 });
    const { port } = await grpc.start();
    const client = healthClient(t, port);
    await assert.rejects(client.check({ service: 'x'.repeat(2048) }), (e: unknown) => {
      assert.ok(e instanceof GrpcError);
      assert.equal(e.code, status.RESOURCE_EXHAUSTED, e.message);
      return true;
    });
    assert.equal(
      (await client.check({ service: '' })).status,
      ServingStatus.SERVING,
      'small requests still pass',
    );
  });

  it('close() returns promptly when no call is open', async (t) => {
    const { grpc } = loopbackServer(t);
    const { port } = await grpc.start();
    await healthClient(t, port).check({});
    await within(grpc.close(60_000), 5000, 'close with nothing open');
  });

  it('close() cancels a stream still open after the grace period', async (t) => {
    const { grpc, lines } = loopbackServer(t);
    const { port } = await grpc.start();
    const stream = healthClient(t, port).watch({ service: '' });
    const it = stream[Symbol.asyncIterator]();
    const first = await within(it.next(), 5000, 'the first Watch message');
    assert.equal(first.done, false);
    await within(grpc.close(100), 5000, 'close with an open Watch');
    assert.ok(lines.some((l) => l.msg === 'gRPC calls still open after the grace period; cancelling them'));
    await assert.rejects(within(it.next(), 5000, 'the Watch stream to end'), (e: unknown) => {
      assert.ok(e instanceof GrpcError, `expected GrpcError, got ${String(e)}`);
      return true;
    });
  });

  it('close() before start() resolves', async (t) => {
    const { grpc } = loopbackServer(t);
    await within((grpc satisfies GrpcServer).close(1000), 5000, 'close of an unstarted server');
  });
});
