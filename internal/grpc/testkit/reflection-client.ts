/**
 * A grpcurl-like client for tests: lists services over server reflection (v1 or v1alpha), fetches every file
 * descriptor a service needs (file_containing_symbol, then file_by_filename for imports not yet sent), builds
 * a protobuf-es registry from them and invokes unary methods with those schemas only, as raw bytes over a
 * generic grpc-js client: nothing of the generated opengslb code is used on the call path.
 */
import type { DescMessage, FileRegistry, JsonValue } from '@bufbuild/protobuf';
import { create, createFileRegistry, fromBinary, fromJson, toBinary, toJson } from '@bufbuild/protobuf';
import type { FileDescriptorProto } from '@bufbuild/protobuf/wkt';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { type ChannelCredentials, Client, credentials as grpcCredentials, Metadata } from '@grpc/grpc-js';
import { ServerReflection as ReflectionV1 } from '../../gen/grpc/reflection/v1/reflection_pb.js';
import { ServerReflection as ReflectionV1alpha } from '../../gen/grpc/reflection/v1alpha/reflection_pb.js';
import type { ServiceClient } from '../client.js';
import { createClient } from '../client.js';
import { grpcErrorFromCall } from '../grpc-error.js';
import type { ReflectionAnswer, ReflectionQuery } from '../reflection.js';

export type ReflectionVersion = 'v1' | 'v1alpha';

export interface ReflectionClient {
  /** One request and its response on the session's single stream (requests are answered in order). */
  ask(query: ReflectionQuery): Promise<ReflectionAnswer>;
  /** `list_services`: fully-qualified names as the server sent them. */
  listServices(): Promise<string[]>;
  /** Descriptors of every file `symbols` need, their imports followed by name until none is missing. */
  collectFiles(symbols: readonly string[]): Promise<Map<string, FileDescriptorProto>>;
  /** A registry of every file `symbols` need, built as `protoc --descriptor_set_out` would order them. */
  registry(symbols: readonly string[]): Promise<FileRegistry>;
  /** Cancels the stream and closes the channel. */
  close(): void;
}

export interface ReflectionClientOptions {
  version: ReflectionVersion;
  credentials?: ChannelCredentials;
  /** Deadline for each answer, in ms (default 5000). */
  answerTimeoutMs?: number;
}

/** The descriptors of a `file_descriptor_response`; throws with the answer otherwise. */
export function descriptorsOf(answer: ReflectionAnswer): FileDescriptorProto[] {
  if (answer.case !== 'fileDescriptorResponse') {
    throw new Error(`reflection: expected a file_descriptor_response, got ${JSON.stringify(answer)}`);
  }
  return answer.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b));
}

/** `files` ordered so every import precedes its importer (a FileDescriptorSet's rule). */
export function dependencyOrder(files: ReadonlyMap<string, FileDescriptorProto>): FileDescriptorProto[] {
  const ordered: FileDescriptorProto[] = [];
  const placed = new Set<string>();
  const place = (f: FileDescriptorProto): void => {
    if (placed.has(f.name)) return;
    placed.add(f.name);
    for (const dep of f.dependency) {
      const d = files.get(dep);
      if (d === undefined) throw new Error(`reflection: ${f.name} imports ${dep}, which was not served`);
      place(d);
    }
    ordered.push(f);
  };
  for (const f of files.values()) place(f);
  return ordered;
}

/** A reflection session on `address`; one stream for all requests, as grpcurl keeps one. */
export function createReflectionClient(address: string, opts: ReflectionClientOptions): ReflectionClient {
  const creds = opts.credentials ?? grpcCredentials.createInsecure();
  const answerTimeoutMs = opts.answerTimeoutMs ?? 5000;
  // Both versions have the same shape; the v1 types stand for either.
  const client =
    opts.version === 'v1'
      ? createClient(ReflectionV1, address, creds)
      : (createClient(ReflectionV1alpha, address, creds) as unknown as ServiceClient<typeof ReflectionV1>);
  const stream = client.serverReflectionInfo();
  const responses = stream[Symbol.asyncIterator]();
  // Requests are answered in order on one stream: chain them so concurrent callers cannot take each other's.
  let queue: Promise<unknown> = Promise.resolve();

  const ask = (query: ReflectionQuery): Promise<ReflectionAnswer> => {
    const run = async (): Promise<ReflectionAnswer> => {
      stream.send({ host: 'reflection-client', messageRequest: query });
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`reflection: no answer to ${query.case} within ${answerTimeoutMs} ms`)),
          answerTimeoutMs,
        );
      });
      try {
        const next = await Promise.race([responses.next(), deadline]);
        if (next.done === true) throw new Error(`reflection: stream ended before answering ${query.case}`);
        const echoed = next.value.originalRequest?.messageRequest.case;
        if (echoed !== query.case)
          throw new Error(`reflection: answer echoes ${String(echoed)}, asked ${query.case}`);
        return next.value.messageResponse as ReflectionAnswer;
      } finally {
        clearTimeout(timer);
      }
    };
    const result = queue.then(run);
    queue = result.catch(() => undefined);
    return result;
  };

  const collectFiles = async (symbols: readonly string[]): Promise<Map<string, FileDescriptorProto>> => {
    const files = new Map<string, FileDescriptorProto>();
    for (const symbol of symbols) {
      for (const f of descriptorsOf(await ask({ case: 'fileContainingSymbol', value: symbol })))
        files.set(f.name, f);
    }
    // A server may leave out files it sent before on this stream; ask for any import still missing by name.
    for (let missing = true; missing; ) {
      missing = false;
      for (const f of [...files.values()]) {
        for (const dep of f.dependency) {
          if (files.has(dep)) continue;
          for (const d of descriptorsOf(await ask({ case: 'fileByFilename', value: dep })))
            files.set(d.name, d);
          missing = true;
        }
      }
    }
    return files;
  };

  return {
    ask,
    async listServices() {
      const answer = await ask({ case: 'listServices', value: '' });
      if (answer.case !== 'listServicesResponse')
        throw new Error(`reflection: expected a list_services_response, got ${JSON.stringify(answer)}`);
      return answer.value.service.map((s) => s.name);
    },
    collectFiles,
    async registry(symbols) {
      const files = await collectFiles(symbols);
      return createFileRegistry(create(FileDescriptorSetSchema, { file: dependencyOrder(files) }));
    },
    close() {
      stream.cancel();
      client.$close();
    },
  };
}

export interface DynamicCallOptions {
  credentials?: ChannelCredentials;
  metadata?: Record<string, string>;
  timeoutMs?: number;
}

/**
 * Invokes the unary `method` (`pkg.Service/Method`) of the service `registry` describes, with `request` in the
 * proto3 JSON form of the input type, and returns the response as proto3 JSON with proto field names
 * (`is_leader`, enum values by name): what `grpcurl -d '{...}' address pkg.Service/Method` prints.
 * @throws GrpcError when the call ends with a non-OK status; Error when the registry lacks the method.
 */
export async function invokeDynamic(
  address: string,
  registry: FileRegistry,
  method: string,
  request: JsonValue,
  opts: DynamicCallOptions = {},
): Promise<JsonValue> {
  const [serviceName, methodName] = method.split('/');
  const service = registry.getService(serviceName ?? '');
  const m = service?.methods.find((x) => x.name === methodName);
  if (m === undefined) throw new Error(`reflection: no method ${method} in the registry`);
  if (m.methodKind !== 'unary') throw new Error(`reflection: ${method} is ${m.methodKind}, not unary`);
  const input: DescMessage = m.input;
  const output: DescMessage = m.output;
  // JSON in (proto names, enum names) and JSON out, as grpcurl takes and prints it.
  const requestBytes = toBinary(input, fromJson(input, request, { registry }));
  const client = new Client(address, opts.credentials ?? grpcCredentials.createInsecure());
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(opts.metadata ?? {})) metadata.set(k, v);
  try {
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      client.makeUnaryRequest(
        `/${serviceName}/${methodName}`,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(requestBytes),
        metadata,
        { deadline: Date.now() + (opts.timeoutMs ?? 5000) },
        (e, r) => (e ? reject(grpcErrorFromCall(e)) : resolve(r as Buffer)),
      );
    });
    return toJson(output, fromBinary(output, bytes), { useProtoFieldName: true, registry });
  } finally {
    client.close();
  }
}
