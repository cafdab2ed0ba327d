import type { EventEmitter } from 'node:events';
import type {
  DescMessage,
  DescMethod,
  DescService,
  MessageInitShape,
  MessageShape,
} from '@bufbuild/protobuf';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import type {
  Metadata,
  MethodDefinition,
  Server,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  ServiceDefinition,
  sendUnaryData,
  UntypedHandleCall,
  UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { GrpcError, statusFromError } from './grpc-error.js';

/** Any grpc-js server call; their common part is metadata, peer, auth context and the 'cancelled' event. */
export type ServerCall =
  | ServerUnaryCall<unknown, unknown>
  | ServerReadableStream<unknown, unknown>
  | ServerWritableStream<unknown, unknown>
  | ServerDuplexStream<unknown, unknown>;

/** What a handler knows about its call besides the request. */
export interface CallContext {
  /** Request metadata; keys are lower-case (`authorization`). */
  readonly metadata: Metadata;
  /** The caller as grpc-js reports it, e.g. `127.0.0.1:53012`. */
  readonly peer: string;
  /** Full method path, `/opengslb.v1.AgentService/Connect`. */
  readonly method: string;
  /**
   * Aborted when the call ends before the handler does: client cancel, deadline, lost connection, server
   * shutdown. Streaming handlers must stop waiting when it fires; the adapter cannot interrupt a pending `await`.
   */
  readonly signal: AbortSignal;
  /** The grpc-js call, for what this interface leaves out (auth context with the TLS peer, sendMetadata). */
  readonly call: ServerCall;
}

type In<M extends DescMethod> = MessageShape<M['input']>;
type Out<M extends DescMethod> = MessageInitShape<M['output']>;

/** Unary: one request, one response (a message or its init shape). */
export type UnaryHandler<M extends DescMethod> = (
  request: In<M>,
  ctx: CallContext,
) => Promise<Out<M>> | Out<M>;
/** Server streaming: the call ends OK when the iterable ends, with the thrown status when it throws. */
export type ServerStreamingHandler<M extends DescMethod> = (
  request: In<M>,
  ctx: CallContext,
) => AsyncIterable<Out<M>>;
/** Client streaming: `requests` ends at the client's half-close and throws a GrpcError when the call breaks. */
export type ClientStreamingHandler<M extends DescMethod> = (
  requests: AsyncIterable<In<M>>,
  ctx: CallContext,
) => Promise<Out<M>> | Out<M>;
/** Bidi streaming: responses may be produced at any pace; the call ends when the returned iterable ends. */
export type BidiStreamingHandler<M extends DescMethod> = (
  requests: AsyncIterable<In<M>>,
  ctx: CallContext,
) => AsyncIterable<Out<M>>;

/** The handler type for one method, chosen by its `methodKind`. */
export type MethodHandler<M extends DescMethod> = M['methodKind'] extends 'unary'
  ? UnaryHandler<M>
  : M['methodKind'] extends 'server_streaming'
    ? ServerStreamingHandler<M>
    : M['methodKind'] extends 'client_streaming'
      ? ClientStreamingHandler<M>
      : M['methodKind'] extends 'bidi_streaming'
        ? BidiStreamingHandler<M>
        : never;

/** One handler per method of a generated service, keyed by the method's local name (`check`, `connect`). */
export type ServiceImpl<S extends DescService> = { [K in keyof S['method']]: MethodHandler<S['method'][K]> };

/** Options for {@link implement}. */
export interface ImplementOptions {
  /** Receives handler failures that are not GrpcErrors (`error`) and undecodable requests (`warn`). */
  log: Logger;
}

/**
 * A request that did not decode. grpc-js turns a throwing deserializer into INTERNAL, so decoding never throws:
 * it yields this value and the adapter answers INVALID_ARGUMENT, which is the caller's fault, not ours.
 */
class UndecodableRequest {
  constructor(readonly reason: string) {}
}

/**
 * The grpc-js definition of a protobuf-es service: paths `/<package>.<Service>/<Method>`, streaming flags from
 * `methodKind`, binary (de)serialisation with the method's schemas. Serialisers accept messages or init shapes.
 */
export function serviceDefinition(desc: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of desc.methods) {
    definition[method.localName] = {
      path: methodPath(method),
      originalName: method.name,
      requestStream: method.methodKind === 'client_streaming' || method.methodKind === 'bidi_streaming',
      responseStream: method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming',
      requestSerialize: serializer(method.input),
      requestDeserialize: (bytes: Buffer) => decodeRequest(method.input, bytes),
      responseSerialize: serializer(method.output),
      responseDeserialize: (bytes: Buffer) => fromBinary(method.output, bytes),
    };
  }
  return definition;
}

/** `/opengslb.v1.AgentService/Connect`. */
export function methodPath(method: DescMethod): string {
  return `/${method.parent.typeName}/${method.name}`;
}

/**
 * Adapts typed handlers to grpc-js: `server.addService(...implement(Health, impl, { log }))`. A thrown GrpcError
 * becomes its status; anything else becomes INTERNAL with a generic message and is logged.
 * @throws Error when `impl` lacks a handler for a method of `desc`.
 */
export function implement<S extends DescService>(
  desc: S,
  impl: ServiceImpl<S>,
  options: ImplementOptions,
): [ServiceDefinition, UntypedServiceImplementation] {
  const handlers = impl as unknown as Record<string, AnyHandler | undefined>;
  const implementation: UntypedServiceImplementation = {};
  for (const method of desc.methods) {
    const handler = handlers[method.localName];
    if (typeof handler !== 'function') {
      throw new Error(
        `gRPC: no handler for ${desc.typeName}.${method.name} (expected impl.${method.localName})`,
      );
    }
    implementation[method.localName] = adapt(method, handler, options.log);
  }
  return [serviceDefinition(desc), implementation];
}

/** `implement` and `server.addService` in one step. */
export function addService<S extends DescService>(
  server: Server,
  desc: S,
  impl: ServiceImpl<S>,
  options: ImplementOptions,
): void {
  server.addService(...implement(desc, impl, options));
}

type AnyHandler = (input: unknown, ctx: CallContext) => unknown;

function adapt(method: DescMethod, handler: AnyHandler, log: Logger): UntypedHandleCall {
  const path = methodPath(method);
  const fail = (call: ServerCall, signal: AbortSignal, e: unknown) =>
    statusFromError(e, signal.aborted, log, { method: path, peer: call.getPeer() });
  const respond = (value: unknown) => create(method.output, value as MessageInitShape<DescMessage>);
  // How a call's input reaches the handler: the decoded request, or the request stream (grpc-js hands
  // client-streaming and bidi handlers a Duplex).
  type Input = (call: ServerCall, signal: AbortSignal) => unknown;
  const single: Input = (call) => checkDecoded(call, 'request' in call ? call.request : undefined, path, log);
  const stream: Input = (call, signal) =>
    readRequests(call as ServerDuplexStream<unknown, unknown>, path, log, signal);

  /** Unary and client streaming: one response through the callback. */
  const answerOnce =
    (input: Input) =>
    (call: ServerCall, done: sendUnaryData<unknown>): void => {
      const { ctx, release } = context(call, path);
      Promise.resolve()
        .then(async () => respond(await handler(input(call, ctx.signal), ctx)))
        .then(
          (response) => done(null, response),
          (e: unknown) => done(fail(call, ctx.signal, e)),
        )
        .finally(release);
    };

  /** Server streaming and bidi: write what the handler yields, honouring back-pressure, then the status. */
  const answerStream =
    (input: Input) =>
    (call: ServerWritableStream<unknown, unknown> | ServerDuplexStream<unknown, unknown>): void => {
      const { ctx, release } = context(call, path);
      Promise.resolve()
        .then(async () => {
          const responses = handler(input(call, ctx.signal), ctx) as AsyncIterable<unknown>;
          for await (const value of responses) {
            // Breaking out runs the handler's `finally` blocks (iterator.return()).
            if (ctx.signal.aborted) break;
            if (!call.write(respond(value))) await drained(call, ctx.signal);
          }
        })
        .then(
          () => {
            if (!ctx.signal.aborted) call.end();
          },
          (e: unknown) => {
            // grpc-js turns an 'error' event into the trailing status and ends the call.
            if (!ctx.signal.aborted) call.emit('error', fail(call, ctx.signal, e));
          },
        )
        .finally(release);
    };

  switch (method.methodKind) {
    case 'unary':
      return answerOnce(single);
    case 'client_streaming':
      return answerOnce(stream);
    case 'server_streaming':
      return answerStream(single);
    case 'bidi_streaming':
      return answerStream(stream);
  }
}

/** The request, or INVALID_ARGUMENT (logged at warn with the peer) when it did not decode. */
function checkDecoded(call: ServerCall, value: unknown, method: string, log: Logger): unknown {
  if (value instanceof UndecodableRequest) {
    log.warn({ method, peer: call.getPeer(), reason: value.reason }, 'gRPC request not decodable');
    throw new GrpcError(status.INVALID_ARGUMENT, value.reason);
  }
  return value;
}

/** The context of one call; `release` detaches the cancel listener once the handler is done. */
function context(call: ServerCall, method: string): { ctx: CallContext; release: () => void } {
  const controller = new AbortController();
  const onCancel = (): void => controller.abort(new GrpcError(status.CANCELLED, 'call cancelled'));
  // The call types' overloaded `once` signatures do not unify; every one of them is an EventEmitter.
  const events: EventEmitter = call;
  events.once('cancelled', onCancel);
  if (call.cancelled) onCancel();
  return {
    ctx: { metadata: call.metadata, peer: call.getPeer(), method, signal: controller.signal, call },
    release: () => events.off('cancelled', onCancel),
  };
}

/**
 * The request stream of a call as an async iterable with back-pressure (Readable's iterator). It is not
 * destroyed when the handler stops reading early, because in bidi calls that would also end the responses.
 */
async function* readRequests(
  call: ServerDuplexStream<unknown, unknown>,
  method: string,
  log: Logger,
  signal: AbortSignal,
): AsyncGenerator<unknown> {
  try {
    for await (const value of call.iterator({ destroyOnReturn: false })) {
      yield checkDecoded(call, value, method, log);
    }
  } catch (e: unknown) {
    // grpc-js destroys the stream on cancel; the iterator reports that as a premature close.
    if (signal.aborted && !(e instanceof GrpcError))
      throw new GrpcError(status.CANCELLED, 'call cancelled', { cause: e });
    throw e;
  }
}

/** Resolves on 'drain' or when the call is cancelled, whichever comes first. */
function drained(call: EventEmitter, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const finish = (): void => {
      call.off('drain', finish);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    call.once('drain', finish);
    signal.addEventListener('abort', finish, { once: true });
  });
}

function serializer(schema: DescMessage): (value: unknown) => Buffer {
  return (value) => {
    const bytes = toBinary(schema, create(schema, value as MessageInitShape<DescMessage>));
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

function decodeRequest(schema: DescMessage, bytes: Buffer): unknown {
  try {
    return fromBinary(schema, bytes);
  } catch (e: unknown) {
    return new UndecodableRequest(
      `cannot decode ${schema.typeName}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
