import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RaftService } from '../internal/gen/opengslb/v1/raft_pb.js';
import type { ServiceClient } from '../internal/grpc/client.js';
import { channelCredentials } from '../internal/grpc/credentials.js';
import { createLeaderClients } from './cluster-peers.js';

/** A factory that records opened and closed addresses; the clients are never called. */
function recorder() {
  const events: string[] = [];
  const factory = (address: string) =>
    ({ $close: () => events.push(`close ${address}`) }) as unknown as ServiceClient<typeof RaftService>;
  return {
    events,
    factory: (address: string) => {
      events.push(`open ${address}`);
      return factory(address);
    },
  };
}

describe('createLeaderClients', () => {
  it('reuses one channel per leader address, closes it when the leader moves and on close', () => {
    const r = recorder();
    const clients = createLeaderClients(channelCredentials({}), r.factory);
    const a = clients.get('127.0.0.1:7001');
    assert.equal(clients.get('127.0.0.1:7001'), a, 'same address -> same client');
    clients.get('127.0.0.1:7002');
    clients.get('127.0.0.1:7002');
    assert.equal(clients.opened(), 2);
    clients.close();
    assert.deepEqual(r.events, [
      'open 127.0.0.1:7001',
      'close 127.0.0.1:7001',
      'open 127.0.0.1:7002',
      'close 127.0.0.1:7002',
    ]);
    assert.throws(() => clients.get('127.0.0.1:7001'), /after close/);
  });
});
