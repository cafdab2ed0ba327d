import type { DescMethod, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type {
  ChannelCredentials,
  ChannelOptions,
  ClientDuplexStream,
  ClientReadableStream,
  ClientUnaryCall,
  ClientWritableStream,
  CallOptions as GrpcCallOptions,
  MethodDefinition,
} from '@grpc/grpc-js';
import { Client, Metadata } from '@grpc/grpc-js';
import { grpcErrorFromCall } from './grpc-error.js';
import { serviceDefinition } from './service.js';

/** Per-call options of a typed client method. */
export interface CallOptions {
  /** Request metadata, e.g. `authorization: Bearer <token>`. */
  metadata?: Metadata | Record<string, string>;
  /** Deadline relative to the start of the call, in ms; the call fails with DEADLINE_EXCEEDED after it. */
  timeoutMs?: number;
  /** Cancels the call (status CANCELLED) when aborted. */
  signal?: AbortSignal;
}

type SurfaceCall = ClientUnaryCall;
type In<M extends DescMethod> = MessageInitShape<M['input']>;
type Out<M extends DescMethod> = MessageShape<M['output']>;

/**
 * Server-streamed responses, to be iterated once. Leaving a `for await` early cancels the call; a call that
 * ends with a non-OK status throws a GrpcError after the messages received before it.
 */
export interface ResponseStream<T> extends AsyncIterable<T> {
  /** Cancels the call; iteration then ends with GrpcError CANCELLED. */
  cancel(): void;
  /** The grpc-js call, for its events ('metadata', 'status'). */
  readonly call: ClientReadableStream<T>;
}

/** Both directions of a bidi call. Responses behave as in {@link ResponseStream}. */
export interface BidiStream<I, O> extends Omit<ResponseStream<O>, 'call'> {
  /** Queues one request; false means the send buffer is full: wait for `call`'s 'drain' before sending more. */
  send(request: I): boolean;
  /** Half-closes: tells the server no more requests follow. */
  end(): void;
  /** The grpc-js call, for its events ('metadata', 'status', 'drain'). */
  readonly call: ClientDuplexStream<I, O>;
}

/** The typed method for one RPC, chosen by its `methodKind`. */
export type ClientMethod<M extends DescMethod> = M['methodKind'] extends 'unary'
  ? (request: In<M>, options?: CallOptions) => Promise<Out<M>>
  : M['methodKind'] extends 'server_streaming'
    ? (request: In<M>, options?: CallOptions) => ResponseStream<Out<M>>
    : M['methodKind'] extends 'client_streaming'
      ? (requests: AsyncIterable<In<M>> | Iterable<In<M>>, options?: CallOptions) => Promise<Out<M>>
      : M['methodKind'] extends 'bidi_streaming'
        ? (options?: CallOptions) => BidiStream<In<M>, Out<M>>
        : never;

/**
 * A typed client: one method per RPC under its local name (`check`, `connect`), plus `$client` (the grpc-js
 * client: `waitForReady`, channel state) and `$close()`, which refuses new calls but, as in grpc-js, lets calls in
 * progress run on: cancel open streams first. The `$` keeps these apart from any RPC name.
 */
export type ServiceClient<S extends DescService> = {
  [K in keyof S['method']]: ClientMethod<S['method'][K]>;
} & {
  readonly $client: Client;
  $close(): void;
};

/**
 * Keepalive defaults for long-lived client channels (agent streams): ping after 30 s without traffic, give up
 * 10 s later, also between calls, so a dead overwatch is noticed within ~40 s rather than at the TCP timeout.
 */
export function defaultClientChannelOptions(): ChannelOptions {
  return {
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
  };
}

/**
 * A typed client for `desc` on `address` (`host:port`). Calls fail with GrpcError; nothing connects until the
 * first call (or `$client.waitForReady`).
 */
export function createClient<S extends DescService>(
  desc: S,
  address: string,
  credentials: ChannelCredentials,
  options?: ChannelOptions,
): ServiceClient<S> {
  const client = new Client(address, credentials, options ?? {});
  const definition = serviceDefinition(desc) as Record<string, MethodDefinition<unknown, unknown>>;
  const methods: Record<string, unknown> = {};
  for (const method of desc.methods) {
    const def = definition[method.localName];
    if (def === undefined) throw new Error(`gRPC: no definition for ${method.localName}`);
    methods[method.localName] = clientMethod(client, method, def);
  }
  return Object.assign(methods, { $client: client, $close: () => client.close() }) as ServiceClient<S>;
}

function clientMethod(client: Client, method: DescMethod, def: MethodDefinition<unknown, unknown>): unknown {
  const { path, requestSerialize: serialize, responseDeserialize: deserialize } = def;
  switch (method.methodKind) {
    case 'unary':
      return (request: unknown, options?: CallOptions) =>
        new Promise((resolve, reject) => {
          const call = client.makeUnaryRequest(
            path,
            serialize,
            deserialize,
            request,
            metadataOf(options),
            callOptions(options),
            (e, response) => (e ? reject(grpcErrorFromCall(e)) : resolve(response)),
          );
          cancelOnAbort(call, options?.signal);
        });
    case 'server_streaming':
      return (request: unknown, options?: CallOptions) => {
        const call = client.makeServerStreamRequest(
          path,
          serialize,
          deserialize,
          request,
          metadataOf(options),
          callOptions(options),
        );
        return responseStream(call, options?.signal);
      };
    case 'client_streaming':
      return (requests: AsyncIterable<unknown> | Iterable<unknown>, options?: CallOptions) =>
        new Promise((resolve, reject) => {
          const call = client.makeClientStreamRequest(
            path,
            serialize,
            deserialize,
            metadataOf(options),
            callOptions(options),
            (e, response) => (e ? reject(grpcErrorFromCall(e)) : resolve(response)),
          );
          cancelOnAbort(call, options?.signal);
          writeAll(call, requests).catch((e: unknown) => {
            call.cancel();
            reject(e);
          });
        });
    case 'bidi_streaming':
      return (options?: CallOptions) => {
        const call = client.makeBidiStreamRequest(
          path,
          serialize,
          deserialize,
          metadataOf(options),
          callOptions(options),
        );
        return {
          ...responseStream(call, options?.signal),
          send: (request: unknown) => call.write(request),
          end: () => call.end(),
          call,
        };
      };
  }
}

function responseStream<C extends ClientReadableStream<unknown>>(
  call: C,
  signal: AbortSignal | undefined,
): { [Symbol.asyncIterator](): AsyncIterator<unknown>; cancel(): void; call: C } {
  // grpc-js emits 'error' right after the end of data; without a listener from the start an error status
  // arriving before iteration begins would crash the process, and a late iterator would miss it.
  let failure: unknown;
  call.on('error', (e: unknown) => {
    failure ??= e;
  });
  cancelOnAbort(call, signal);
  async function* iterate(): AsyncGenerator<unknown> {
    try {
      for await (const value of call.iterator({ destroyOnReturn: false })) yield value;
      if (failure !== undefined) throw failure;
    } catch (e: unknown) {
      throw grpcErrorFromCall(e);
    } finally {
      // No-op once the call has completed; stops the server when the consumer leaves early.
      call.cancel();
    }
  }
  return { [Symbol.asyncIterator]: iterate, cancel: () => call.cancel(), call };
}

async function writeAll(
  call: ClientWritableStream<unknown>,
  requests: AsyncIterable<unknown> | Iterable<unknown>,
) {
  for await (const request of requests) {
    if (!call.write(request)) {
      // 'status' too: a call that fails while the buffer is full never drains.
      const ended = await new Promise<boolean>((resolve) => {
        const onDrain = (): void => settle(false);
        const onStatus = (): void => settle(true);
        const settle = (value: boolean): void => {
          call.off('drain', onDrain);
          call.off('status', onStatus);
          resolve(value);
        };
        call.once('drain', onDrain);
        call.once('status', onStatus);
      });
      if (ended) return;
    }
  }
  call.end();
}

/** Cancels `call` when `signal` aborts; the listener is dropped when the call ends ('status'). */
function cancelOnAbort(call: SurfaceCall, signal: AbortSignal | undefined): void {
  if (signal === undefined) return;
  if (signal.aborted) {
    call.cancel();
    return;
  }
  const cancel = (): void => call.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  call.once('status', () => signal.removeEventListener('abort', cancel));
}

function metadataOf(options: CallOptions | undefined): Metadata {
  const given = options?.metadata;
  if (given instanceof Metadata) return given;
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(given ?? {})) metadata.set(key, value);
  return metadata;
}

function callOptions(options: CallOptions | undefined): GrpcCallOptions {
  return options?.timeoutMs === undefined ? {} : { deadline: Date.now() + options.timeoutMs };
}
