export { bearerToken, tokensEqual } from './auth.js';
export type { BidiStream, CallOptions, ClientMethod, ResponseStream, ServiceClient } from './client.js';
export { createClient, defaultClientChannelOptions } from './client.js';
export type { ChannelSetup, ClientTlsFiles, ServerTlsFiles } from './credentials.js';
export { channelCredentials, serverCredentials } from './credentials.js';
export {
  GrpcError,
  grpcErrorFromCall,
  INTERNAL_ERROR_DETAILS,
  statusFromError,
  statusName,
} from './grpc-error.js';
export type { HealthController, ReportableStatus } from './health.js';
export { addHealth, OVERALL_HEALTH, ServingStatus } from './health.js';
export type { ReflectionAnswer, ReflectionIndex, ReflectionQuery } from './reflection.js';
export { addReflection, createReflectionIndex } from './reflection.js';
export type { GrpcServer, GrpcServerOptions, ServerKeepalive } from './server.js';
export { createGrpcServer, DEFAULT_MAX_MESSAGE_BYTES, GrpcListenError } from './server.js';
export type {
  BidiStreamingHandler,
  CallContext,
  ClientStreamingHandler,
  ImplementOptions,
  MethodHandler,
  ServerCall,
  ServerStreamingHandler,
  ServiceImpl,
  UnaryHandler,
} from './service.js';
export { addService, implement, methodPath, serviceDefinition } from './service.js';
