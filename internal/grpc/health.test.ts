import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { status } from '@grpc/grpc-js';
import { Health, HealthCheckResponse_ServingStatus as S } from '../gen/grpc/health/v1/health_pb.js';
import { GrpcError } from './grpc-error.js';
import type { HealthController } from './health.js';
import { addHealth } from './health.js';
import { startLoopback, within } from './testkit/loopback.js';

async function setup(t: TestContext) {
  let health!: HealthController;
  const lb = await startLoopback(t, (server, log) => {
    health = addHealth(server, log);
  });
  return { health, client: lb.client(Health) };
}

/** Reads a Watch stream message by message, each with a deadline. */
function reader(stream: AsyncIterable<{ status: S }>) {
  const it = stream[Symbol.asyncIterator]();
  return async (): Promise<S> => {
    const next = await within(it.next(), 5000, 'the next Watch message');
    assert.equal(next.done, false, 'stream still open');
    return (next.value as { status: S }).status;
  };
}

describe('addHealth', () => {
  it('reports the whole server SERVING from the start and NOT_FOUND for unknown names', async (t) => {
    const { client } = await setup(t);
    assert.equal((await client.check({ service: '' })).status, S.SERVING);
    await assert.rejects(client.check({ service: 'opengslb.v1.AgentService' }), (e: unknown) => {
      assert.ok(e instanceof GrpcError);
      assert.equal(e.code, status.NOT_FOUND);
      assert.equal(e.message, 'unknown service "opengslb.v1.AgentService"');
      return true;
    });
  });

  it('answers Check and List with what was set', async (t) => {
    const { health, client } = await setup(t);
    health.set('opengslb.v1.AgentService', S.NOT_SERVING);
    health.set('opengslb.v1.OverwatchService', S.SERVING);
    assert.equal((await client.check({ service: 'opengslb.v1.AgentService' })).status, S.NOT_SERVING);
    assert.equal(health.get('opengslb.v1.OverwatchService'), S.SERVING);
    const list = await client.list({});
    const statuses = Object.fromEntries(Object.entries(list.statuses).map(([k, v]) => [k, v.status]));
    assert.deepEqual(statuses, {
      '': S.SERVING,
      'opengslb.v1.AgentService': S.NOT_SERVING,
      'opengslb.v1.OverwatchService': S.SERVING,
    });
  });

  it('Watch sends the current status, then each change, and skips repeats', async (t) => {
    const { health, client } = await setup(t);
    health.set('svc', S.SERVING);
    const stream = client.watch({ service: 'svc' });
    const next = reader(stream);
    assert.equal(await next(), S.SERVING);
    health.set('svc', S.SERVING); // unchanged: nothing sent
    health.set('svc', S.NOT_SERVING);
    assert.equal(await next(), S.NOT_SERVING);
    health.set('svc', S.SERVING);
    assert.equal(await next(), S.SERVING);
    stream.cancel();
  });

  it('Watch of an unknown service sends SERVICE_UNKNOWN and stays open until it becomes known', async (t) => {
    const { health, client } = await setup(t);
    const stream = client.watch({ service: 'later' });
    const next = reader(stream);
    assert.equal(await next(), S.SERVICE_UNKNOWN);
    health.set('later', S.NOT_SERVING);
    assert.equal(await next(), S.NOT_SERVING);
    stream.cancel();
  });

  it('Watch ends when the caller cancels', async (t) => {
    const { client } = await setup(t);
    const controller = new AbortController();
    const stream = client.watch({ service: '' }, { signal: controller.signal });
    const consumed = (async () => {
      for await (const _ of stream) controller.abort();
    })();
    await assert.rejects(within(consumed, 5000, 'the cancelled Watch to end'), { code: status.CANCELLED });
  });

  it('shutdown marks everything NOT_SERVING, tells watchers and ignores later updates', async (t) => {
    const { health, client } = await setup(t);
    health.set('svc', S.SERVING);
    const stream = client.watch({ service: '' });
    const next = reader(stream);
    assert.equal(await next(), S.SERVING);
    health.shutdown();
    assert.equal(await next(), S.NOT_SERVING);
    health.set('svc', S.SERVING);
    assert.equal((await client.check({ service: 'svc' })).status, S.NOT_SERVING);
    assert.equal((await client.check({ service: '' })).status, S.NOT_SERVING);
    stream.cancel();
  });
});
