/**
 * The node's gRPC listener: AgentService, OverwatchService (admin), grpc.health.v1.Health and server
 * reflection v1/v1alpha built from the generated file descriptors, so `grpcurl list|describe|invoke` works
 * with no .proto files at hand.
 */
import type { Logger } from 'pino';
import { file_grpc_health_v1_health } from '../internal/gen/grpc/health/v1/health_pb.js';
import { file_opengslb_v1_admin, OverwatchService } from '../internal/gen/opengslb/v1/admin_pb.js';
import { AgentService, file_opengslb_v1_agent } from '../internal/gen/opengslb/v1/agent_pb.js';
import { serverCredentials } from '../internal/grpc/credentials.js';
import { addHealth, type HealthController, ServingStatus } from '../internal/grpc/health.js';
import { addReflection } from '../internal/grpc/reflection.js';
import { createGrpcServer } from '../internal/grpc/server.js';
import { addService, type ServiceImpl } from '../internal/grpc/service.js';

export interface NodeGrpcOptions {
  host: string;
  port: number;
  tls: { certFile: string; keyFile: string; clientCaFile: string };
  log: Logger;
  agent: ServiceImpl<typeof AgentService>;
  admin: ServiceImpl<typeof OverwatchService>;
}

export interface NodeGrpc {
  start(): Promise<void>;
  close(): Promise<void>;
  health: HealthController;
}

/** @throws Error naming the file when a TLS file cannot be used (at creation, so start-up fails early). */
export function createNodeGrpc(opts: NodeGrpcOptions): NodeGrpc {
  const grpc = createGrpcServer({
    host: opts.host,
    port: opts.port,
    credentials: serverCredentials(opts.tls),
    log: opts.log,
  });
  addService(grpc.server, AgentService, opts.agent, { log: opts.log });
  addService(grpc.server, OverwatchService, opts.admin, { log: opts.log });
  const health = addHealth(grpc.server, opts.log);
  addReflection(
    grpc.server,
    [file_opengslb_v1_agent, file_opengslb_v1_admin, file_grpc_health_v1_health],
    [AgentService.typeName, OverwatchService.typeName, 'grpc.health.v1.Health'],
    opts.log,
  );
  for (const name of [AgentService.typeName, OverwatchService.typeName])
    health.set(name, ServingStatus.SERVING);
  return {
    health,
    async start() {
      await grpc.start();
    },
    async close() {
      health.shutdown();
      // Agent streams never end by themselves: give unary calls a moment, then cancel the rest.
      await grpc.close(1000);
    },
  };
}
