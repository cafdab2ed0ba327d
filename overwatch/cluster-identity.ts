/**
 * Cluster identity: `<dataDir>/cluster-id` is read, created (bootstrap on an empty node) or learned from the
 * member a joining node contacts. A node that has an id never joins again: it rejoins by itself on restart.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { RaftService } from '../internal/gen/opengslb/v1/raft_pb.js';
import { createClient } from '../internal/grpc/client.js';
import type { ChannelSetup } from '../internal/grpc/credentials.js';
import { GrpcError } from '../internal/grpc/grpc-error.js';
import type { MemberAddressBook } from './cluster-runtime.js';

/** What {@link clusterIdentity} needs of the runtime's options. */
export interface IdentityOptions {
  nodeId: string;
  dataDir: string;
  advertise: MemberAddressBook;
  bootstrap: boolean;
  join: readonly string[];
  /** Channel setup of Raft clients (mutual TLS when cluster.raft.tls is set). */
  raftClient: ChannelSetup;
  log: Logger;
}

const JOIN_DEADLINE_MS = 30_000;
const CALL_TIMEOUT_MS = 5_000;

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Asks the members at `targets`, in turn, to add this node until one answers; returns the cluster id. */
async function joinCluster(o: IdentityOptions): Promise<string> {
  const deadline = performance.now() + JOIN_DEADLINE_MS;
  let last: unknown;
  for (;;) {
    for (const target of o.join) {
      const client = createClient(RaftService, target, o.raftClient.credentials, o.raftClient.options);
      try {
        const resp = await client.join(
          { nodeId: o.nodeId, clusterId: '', addresses: o.advertise },
          { timeoutMs: CALL_TIMEOUT_MS },
        );
        o.log.info({ leader_id: resp.leaderId, via: target }, 'joined cluster');
        return resp.clusterId;
      } catch (e: unknown) {
        // The cluster refused this node for good (it is a member already): retrying cannot help.
        if (e instanceof GrpcError && e.code === grpcStatus.FAILED_PRECONDITION)
          throw new Error(`cluster: join refused by ${target}: ${e.message}`, { cause: e });
        last = e;
        // With mutual TLS a refused certificate surfaces as a dropped connection: say what to check.
        o.log.warn(
          {
            err: e,
            target,
            ...(o.raftClient.tls
              ? { hint: 'cluster.raft.tls: this certificate must be signed by the CA the members trust' }
              : {}),
          },
          'join attempt failed; trying the next member',
        );
      } finally {
        client.$close();
      }
    }
    if (performance.now() > deadline)
      throw new Error(
        `cluster: could not join via ${o.join.join(', ')} within ${JOIN_DEADLINE_MS} ms${o.raftClient.tls ? " (mutual TLS: check that cluster.raft.tls cert_file is signed by the members' ca_file)" : ''}`,
        {
          cause: last,
        },
      );
    await pause(250);
  }
}

/** Reads, creates (bootstrap) or learns (join) the cluster id; a node with an id never joins again. */
export async function clusterIdentity(o: IdentityOptions, hasState: boolean): Promise<string> {
  const file = join(o.dataDir, 'cluster-id');
  try {
    const id = (await readFile(file, 'utf8')).trim();
    if (id !== '') return id;
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  let id: string;
  if (o.bootstrap && !hasState) id = randomBytes(16).toString('hex');
  else if (o.join.length > 0) id = await joinCluster(o);
  else
    throw new Error(
      `cluster: ${file} missing and nothing to do: start the first node with --bootstrap, others with --join`,
    );
  await writeFile(file, `${id}\n`, { mode: 0o644, flush: true });
  return id;
}
