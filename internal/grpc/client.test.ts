import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import {
  Health,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from '../gen/grpc/health/v1/health_pb.js';
import { defaultClientChannelOptions } from './client.js';
import { GrpcError } from './grpc-error.js';
import type { ServiceImpl } from './service.js';
import { addService } from './service.js';
import { clientFor, startLoopback, within } from './testkit/loopback.js';

/** Resolves when a call's handler saw its signal abort; `hold` keeps a handler busy until then. */
function abortProbe() {
  let seen!: () => void;
  const aborted = new Promise<void>((resolve) => {
    seen = resolve;
  });
  const hold = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve) =>
      signal.addEventListener(
        'abort',
        () => {
          seen();
          resolve();
        },
        { once: true },
      ),
    );
  return { aborted, hold };
}

function healthWith(overrides: Partial<ServiceImpl<typeof Health>>): ServiceImpl<typeof Health> {
  return {
    check: (request) => ({
      status: request.service === '' ? ServingStatus.SERVING : ServingStatus.NOT_SERVING,
    }),
    watch: async function* () {
      yield { status: ServingStatus.SERVING };
    },
    list: () => ({ statuses: {} }),
    ...overrides,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<status> {
  try {
    await promise;
  } catch (e: unknown) {
    assert.ok(e instanceof GrpcError, `expected a GrpcError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('call succeeded');
}

describe('createClient', () => {
  it('sends Metadata instances and plain records alike', async (t) => {
    const seen: string[] = [];
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        Health,
        healthWith({
          check: (_, ctx) => {
            seen.push(String(ctx.metadata.get('x-trace')[0]));
            return {};
          },
        }),
        { log },
      ),
    );
    const client = lb.client(Health);
    const metadata = new Metadata();
    metadata.set('x-trace', 'from-instance');
    await client.check({}, { metadata });
    await client.check({}, { metadata: { 'x-trace': 'from-record' } });
    assert.deepEqual(seen, ['from-instance', 'from-record']);
  });

  it('cancels a unary call when the signal aborts, and the server handler sees it', async (t) => {
    const probe = abortProbe();
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        Health,
        healthWith({
          check: async (_, ctx) => {
            controller.abort();
            await probe.hold(ctx.signal);
            return {};
          },
        }),
        { log },
      ),
    );
    const controller = new AbortController();
    const code = await codeOf(lb.client(Health).check({}, { signal: controller.signal }));
    assert.equal(code, status.CANCELLED);
    await within(probe.aborted, 5000, 'the server handler to see the cancel');
  });

  it('does not start a call whose signal is already aborted', async (t) => {
    const lb = await startLoopback(t, (server, log) => addService(server, Health, healthWith({}), { log }));
    const code = await codeOf(lb.client(Health).check({}, { signal: AbortSignal.abort() }));
    assert.equal(code, status.CANCELLED);
  });

  it('cancels a server stream when the consumer leaves the loop early', async (t) => {
    const probe = abortProbe();
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        Health,
        healthWith({
          watch: async function* (_, ctx) {
            yield { status: ServingStatus.SERVING };
            await probe.hold(ctx.signal);
          },
        }),
        { log },
      ),
    );
    for await (const r of lb.client(Health).watch({})) {
      assert.equal(r.status, ServingStatus.SERVING);
      break;
    }
    await within(probe.aborted, 5000, 'the server stream to be cancelled');
  });

  it('keeps an error status that arrives before iteration starts', async (t) => {
    const lb = await startLoopback(t, (server, log) =>
      addService(
        server,
        Health,
        healthWith({
          // biome-ignore lint/correctness/useYield: the stream fails before its first message
          watch: async function* () {
            throw new GrpcError(status.PERMISSION_DENIED, 'not you');
          },
        }),
        { log },
      ),
    );
    const stream = lb.client(Health).watch({});
    // Let the status arrive while nobody iterates: must neither crash the process nor be lost.
    // (events.once would reject on the 'error' event that accompanies the status.)
    await within(new Promise((resolve) => stream.call.once('status', resolve)), 5000, 'the status');
    const code = await codeOf(
      (async () => {
        for await (const _ of stream) assert.fail('no message expected');
      })(),
    );
    assert.equal(code, status.PERMISSION_DENIED);
  });

  it('fails with UNAVAILABLE when nothing listens', async (t) => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const address = probe.address();
    assert.ok(address !== null && typeof address === 'object');
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const client = clientFor(t, Health, `127.0.0.1:${address.port}`);
    assert.equal(await codeOf(client.check({}, { timeoutMs: 5000 })), status.UNAVAILABLE);
  });
});

describe('defaultClientChannelOptions', () => {
  it('returns keepalive settings in a fresh object each time', () => {
    const a = defaultClientChannelOptions();
    assert.deepEqual(a, {
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
    });
    a['grpc.keepalive_time_ms'] = 1;
    assert.equal(defaultClientChannelOptions()['grpc.keepalive_time_ms'], 30_000);
  });
});
