import type { TestContext } from 'node:test';
import type { DescService } from '@bufbuild/protobuf';
import type { ChannelCredentials, ChannelOptions, Server } from '@grpc/grpc-js';
import { credentials as grpcCredentials, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { ServiceClient } from '../client.js';
import { createClient } from '../client.js';
import { createGrpcServer } from '../server.js';

/** One pino line as the recording logger stores it. */
export interface LogLine {
  level: number;
  msg: string;
  err?: { message: string; type?: string };
  [key: string]: unknown;
}

/** A logger whose JSON lines land in `lines`. */
export function recordingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

/** A started server on 127.0.0.1, port 0. */
export interface Loopback {
  server: Server;
  /** `127.0.0.1:<port>`. */
  address: string;
  port: number;
  log: Logger;
  lines: LogLine[];
  /** Runs `fn` after the test, before the server closes: cancel streams there so they do not delay shutdown. */
  beforeClose(fn: () => void): void;
  /** A typed client of this server, closed after the test, before the server. */
  client<S extends DescService>(
    desc: S,
    credentials?: ChannelCredentials,
    options?: ChannelOptions,
  ): ServiceClient<S>;
}

/**
 * Starts a gRPC server on 127.0.0.1:0 after `setup` added its services. After the test its clients are closed,
 * then the server (calls still open after 1 s are cancelled).
 */
export async function startLoopback(
  t: TestContext,
  setup: (server: Server, log: Logger) => void,
  credentials: ServerCredentials = ServerCredentials.createInsecure(),
): Promise<Loopback> {
  const { log, lines } = recordingLogger();
  const grpc = createGrpcServer({ host: '127.0.0.1', port: 0, credentials, log });
  setup(grpc.server, log);
  const { port } = await grpc.start();
  const address = `127.0.0.1:${port}`;
  const clients: ServiceClient<DescService>[] = [];
  const hooks: (() => void)[] = [];
  t.after(async () => {
    for (const fn of hooks) fn();
    // Closing a channel does not cancel its calls: open streams must be cancelled by their owners (hooks).
    for (const c of clients) c.$close();
    await grpc.close(1000);
  });
  return {
    server: grpc.server,
    address,
    port,
    log,
    lines,
    beforeClose: (fn) => hooks.push(fn),
    client: (desc, creds = grpcCredentials.createInsecure(), options) => {
      const client = createClient(desc, address, creds, options);
      clients.push(client as unknown as ServiceClient<DescService>);
      return client;
    },
  };
}

/** A typed client closed after the test; plaintext unless `credentials` say otherwise. */
export function clientFor<S extends DescService>(
  t: TestContext,
  desc: S,
  address: string,
  credentials: ChannelCredentials = grpcCredentials.createInsecure(),
  options?: ChannelOptions,
): ServiceClient<S> {
  const client = createClient(desc, address, credentials, options);
  t.after(() => client.$close());
  return client;
}

/** `promise`, or a rejection naming `what` when it has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
