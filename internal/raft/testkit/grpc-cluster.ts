/**
 * Real Raft nodes in one process: file storage in temp dirs, RaftService on 127.0.0.1, the gRPC transport.
 * Test-only: never imported by production code.
 */
import type { TestContext } from 'node:test';
import { credentials, ServerCredentials } from '@grpc/grpc-js';
import { type Logger, pino } from 'pino';
import { RaftService } from '../../gen/opengslb/v1/raft_pb.js';
import { createGrpcServer, type GrpcServer } from '../../grpc/server.js';
import { addService } from '../../grpc/service.js';
import type { Rand } from '../core/config.js';
import { ProposalDroppedError } from '../core/errors.js';
import { type RaftNode, startRaftNode } from '../node.js';
import { raftServiceImpl } from '../raft-service.js';
import { encodeMemberAddresses } from '../raft-wire.js';
import type { SnapshotPolicy } from '../snapshot-policy.js';
import { type FileStorage, openFileStorage } from '../storage-file.js';
import { createGrpcTransport } from '../transport-grpc.js';
import { tempDir } from './fixtures.js';

/** The cluster id every test member uses. */
export const TEST_CLUSTER = 'test-cluster';

/** One member: its node, server and storage; `applied` lists the normal entries it applied, as text. */
export interface Member {
  id: string;
  address: string;
  port: number;
  dir: string;
  node: RaftNode;
  applied: string[];
  /** Snapshots restored (at start or from the leader): index and the members' Raft addresses they carried. */
  restores: { index: number; members: Record<string, string> }[];
  /** Stops the node, closes the server and the storage (a clean kill; the data directory stays). */
  kill(): Promise<void>;
  readonly alive: boolean;
}

/** Options of {@link startMember}. */
export interface MemberOptions {
  id: string;
  heartbeatTimeoutMs: number;
  seed: number;
  log: Logger;
  /** Data directory to reuse (restart); default a fresh temp dir. */
  dir?: string;
  /** Port to bind (restart on the old address); default 0. */
  port?: number;
  bootstrap?: boolean;
  peers?: Record<string, string>;
  /** Local snapshots of `applied` (as JSON) under this policy; the bootstrap entry then carries the address. */
  snapshots?: SnapshotPolicy;
}

/** mulberry32: a small seeded PRNG for election jitter; print the seed on failure. */
export function seededRand(seed: number): Rand {
  let a = seed >>> 0;
  return {
    int(n: number): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let x = Math.imul(a ^ (a >>> 15), 1 | a);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return Math.floor((((x ^ (x >>> 14)) >>> 0) / 4294967296) * n);
    },
  };
}

/** A logger for cluster tests: silent unless RAFT_TEST_LOG names a level. */
export function testLogger(): Logger {
  return pino({ level: process.env['RAFT_TEST_LOG'] ?? 'silent' });
}

/** Starts a member and kills it after the test (if still alive). */
export async function startMember(t: TestContext, o: MemberOptions): Promise<Member> {
  const dir = o.dir ?? (await tempDir(t, `raft-node-${o.id}-`));
  const log = o.log.child({ member: o.id });
  const storage: FileStorage = await openFileStorage(dir);
  let applied: string[] = [];
  const restores: Member['restores'] = [];
  const target: { node: RaftNode | undefined } = { node: undefined };
  const server: GrpcServer = createGrpcServer({
    host: '127.0.0.1',
    port: o.port ?? 0,
    credentials: ServerCredentials.createInsecure(),
    log,
  });
  addService(
    server.server,
    RaftService,
    raftServiceImpl((m) => target.node?.step(m), TEST_CLUSTER, {
      log,
      onPeerAddress: (id, address) => target.node?.hintPeer(id, address),
    }),
    { log },
  );
  const { port } = await server.start();
  const decoder = new TextDecoder();
  const node = startRaftNode({
    id: o.id,
    clusterId: TEST_CLUSTER,
    storage,
    heartbeatTimeoutMs: o.heartbeatTimeoutMs,
    rand: seededRand(o.seed),
    log,
    bootstrap: o.bootstrap ?? false,
    peers: o.peers ?? {},
    transport: (reports) =>
      createGrpcTransport({
        credentials: credentials.createInsecure(),
        heartbeatIntervalMs: o.heartbeatTimeoutMs / 10,
        advertiseAddress: `127.0.0.1:${port}`,
        reports,
        log,
      }),
    apply: (e) => {
      if (e.kind === 'normal') applied.push(decoder.decode(e.data));
    },
    ...(o.snapshots === undefined
      ? {}
      : {
          bootstrapContext: encodeMemberAddresses({ raft: `127.0.0.1:${port}` }),
          snapshots: {
            policy: o.snapshots,
            capture: () => new TextEncoder().encode(JSON.stringify(applied)),
          },
          restore: (state, meta, members) => {
            applied = JSON.parse(decoder.decode(state)) as string[];
            restores.push({
              index: meta.index,
              members: Object.fromEntries([...members].map(([id, a]) => [id, a.raft])),
            });
          },
        }),
  });
  target.node = node;
  let alive = true;
  const kill = async (): Promise<void> => {
    if (!alive) return;
    alive = false;
    await node.stop();
    await server.close(0);
    await storage.close();
  };
  t.after(kill);
  return {
    id: o.id,
    address: `127.0.0.1:${port}`,
    port,
    dir,
    node,
    get applied() {
      return applied;
    },
    restores,
    kill,
    get alive() {
      return alive;
    },
  };
}

/**
 * Resolves once `cond()` returns a value other than undefined, checking on every timer turn; rejects after
 * `ms` with `what` and `describe()` (the state that did not converge).
 */
export async function waitFor<T>(
  what: string,
  ms: number,
  cond: () => T | undefined,
  describe: () => unknown = () => '',
): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    const v = cond();
    if (v !== undefined) return v;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}; state: ${JSON.stringify(describe())}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Runs `fn` until it stops throwing ProposalDroppedError (leader not ready yet), for at most `ms`. */
export async function retryDropped<T>(what: string, ms: number, fn: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (e: unknown) {
      if (!(e instanceof ProposalDroppedError)) throw e;
      if (performance.now() > deadline)
        throw new Error(`${what} still refused after ${ms} ms: ${e.message}`, { cause: e });
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
