/**
 * Credentials of the Raft port (cluster.raft.tls): mutual TLS between peers or plaintext, never one-sided,
 * since a server that does not verify clients would let any host that reaches the port vote and append.
 */
import type { ServerCredentials } from '@grpc/grpc-js';
import { type ChannelSetup, channelCredentials, serverCredentials } from '../internal/grpc/credentials.js';
import { raftChannelOptions } from '../internal/raft/transport-grpc.js';

/** PEM files of cluster.raft.tls. */
export interface RaftTlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
}

/**
 * Server credentials and client channel setup for the Raft port: plaintext when no file is set, otherwise
 * the server requires a client certificate signed by `caFile` and every client presents `certFile` and
 * verifies the server against `caFile`, so a peer without a valid certificate can neither join nor vote.
 * @throws Error naming a missing file (all three must be set together) or an unusable one.
 */
export function raftCredentials(tls: RaftTlsFiles): { server: ServerCredentials; client: ChannelSetup } {
  // Every client of the Raft port gets the Raft channels' reconnect backoff, not grpc-js's 120 s ceiling.
  const raftClient = (s: ChannelSetup): ChannelSetup => ({
    ...s,
    options: { ...s.options, ...raftChannelOptions() },
  });
  const set = [tls.certFile, tls.keyFile, tls.caFile].filter((f) => f !== '').length;
  if (set === 0) return { server: serverCredentials({}), client: raftClient(channelCredentials({})) };
  if (set !== 3)
    throw new Error(
      'cluster.raft.tls: cert_file, key_file and ca_file must be set together (mutual TLS between peers)',
    );
  const rename = (e: unknown): Error =>
    new Error(`cluster.raft.tls: ${e instanceof Error ? e.message.replace(/^gRPC TLS: /, '') : String(e)}`, {
      cause: e,
    });
  try {
    return {
      server: serverCredentials({ certFile: tls.certFile, keyFile: tls.keyFile, clientCaFile: tls.caFile }),
      client: raftClient(
        channelCredentials({ caFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile }),
      ),
    };
  } catch (e: unknown) {
    throw rename(e);
  }
}
