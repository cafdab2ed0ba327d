/**
 * One cached RaftService client for calls a member makes to the current leader (forwarded writes, joins,
 * removals, leadership transfers). A new channel per call would pay a TCP (and TLS) handshake on every
 * forwarded write; the leader changes rarely, so one slot keyed by address is enough: asking for another
 * address closes the old channel.
 */
import { RaftService } from '../internal/gen/opengslb/v1/raft_pb.js';
import { createClient, type ServiceClient } from '../internal/grpc/client.js';
import type { ChannelSetup } from '../internal/grpc/credentials.js';

/** Client factory, replaceable in tests. */
export type RaftClientFactory = (address: string, setup: ChannelSetup) => ServiceClient<typeof RaftService>;

/** The cached leader client. */
export interface LeaderClients {
  /** The client for `address`, reusing the open one when the address is unchanged. Throws once closed. */
  get(address: string): ServiceClient<typeof RaftService>;
  /** How many channels were opened so far (for tests and logs). */
  opened(): number;
  /** Closes the cached channel; later get() calls throw. */
  close(): void;
}

const defaultFactory: RaftClientFactory = (address, setup) =>
  createClient(RaftService, address, setup.credentials, setup.options);

/**
 * Creates the cache. Calls in flight on a channel closed because the leader moved run on (grpc-js lets them
 * finish); they fail or succeed on their own deadline.
 */
export function createLeaderClients(setup: ChannelSetup, factory = defaultFactory): LeaderClients {
  let current: { address: string; client: ServiceClient<typeof RaftService> } | undefined;
  let closed = false;
  let count = 0;
  return {
    get(address) {
      if (closed) throw new Error('cluster: leader client used after close');
      if (current?.address === address) return current.client;
      current?.client.$close();
      current = { address, client: factory(address, setup) };
      count++;
      return current.client;
    },
    opened: () => count,
    close() {
      closed = true;
      current?.client.$close();
      current = undefined;
    },
  };
}
