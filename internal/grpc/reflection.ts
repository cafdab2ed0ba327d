import type { DescEnum, DescExtension, DescFile, DescMessage } from '@bufbuild/protobuf';
import { toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import type { Server } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import {
  file_grpc_reflection_v1_reflection,
  ServerReflection as ReflectionV1,
} from '../gen/grpc/reflection/v1/reflection_pb.js';
import {
  file_grpc_reflection_v1alpha_reflection,
  ServerReflection as ReflectionV1alpha,
} from '../gen/grpc/reflection/v1alpha/reflection_pb.js';
import { addService } from './service.js';

/** A reflection request's `message_request` oneof; v1 and v1alpha share the layout. */
export type ReflectionQuery =
  | { case: 'fileByFilename'; value: string }
  | { case: 'fileContainingSymbol'; value: string }
  | { case: 'fileContainingExtension'; value: { containingType: string; extensionNumber: number } }
  | { case: 'allExtensionNumbersOfType'; value: string }
  | { case: 'listServices'; value: string }
  | { case: undefined; value?: undefined };

/** A reflection response's `message_response` oneof, as init shape for either version. */
export type ReflectionAnswer =
  | { case: 'fileDescriptorResponse'; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: 'allExtensionNumbersResponse'; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: 'listServicesResponse'; value: { service: { name: string }[] } }
  | { case: 'errorResponse'; value: { errorCode: number; errorMessage: string } };

/** Answers reflection queries over a fixed set of files; built once, read-only afterwards. */
export interface ReflectionIndex {
  /** Fully-qualified names of the listed services, sorted. */
  readonly services: readonly string[];
  answer(query: ReflectionQuery): ReflectionAnswer;
}

/**
 * Serves gRPC server reflection, both `grpc.reflection.v1.ServerReflection` and the `v1alpha` one older
 * grpcurl builds ask for, from protobuf-es descriptors: descriptors keep their imports, unlike
 * @grpc/reflection over proto-loader, so clients can resolve google.protobuf.Duration and friends.
 * `serviceNames` are listed (the reflection services are added); each must be declared in `files`.
 * @throws Error naming a service that none of `files` declares.
 */
export function addReflection(server: Server, files: DescFile[], serviceNames: string[], log: Logger): void {
  const index = createReflectionIndex(
    [...files, file_grpc_reflection_v1_reflection, file_grpc_reflection_v1alpha_reflection],
    [...serviceNames, ReflectionV1.typeName, ReflectionV1alpha.typeName],
  );
  // The same answers for both versions; only the message types' names differ.
  async function* serve<R extends { host: string; messageRequest: ReflectionQuery }>(
    requests: AsyncIterable<R>,
  ) {
    for await (const request of requests) {
      yield {
        validHost: request.host,
        originalRequest: request,
        messageResponse: index.answer(request.messageRequest),
      };
    }
  }
  addService(server, ReflectionV1, { serverReflectionInfo: serve }, { log });
  addService(server, ReflectionV1alpha, { serverReflectionInfo: serve }, { log });
}

/**
 * Indexes `files` and their transitive imports by file name and by every symbol a client may ask about:
 * services, methods, messages (nested and map entries too), fields and oneofs, enums and their values (which
 * protobuf scopes beside the enum, not inside it), and extensions.
 * @throws Error naming a service in `serviceNames` that no file declares.
 */
export function createReflectionIndex(files: DescFile[], serviceNames: string[]): ReflectionIndex {
  const byName = new Map<string, DescFile>();
  const bySymbol = new Map<string, DescFile>();
  // extendee type name -> extension field number -> declaring file
  const extensions = new Map<string, Map<number, DescFile>>();
  const messageTypes = new Set<string>();
  const encoded = new Map<string, Uint8Array>();

  const addExtension = (ext: DescExtension): void => {
    bySymbol.set(ext.typeName, ext.file);
    const numbers = extensions.get(ext.extendee.typeName) ?? new Map<number, DescFile>();
    numbers.set(ext.number, ext.file);
    extensions.set(ext.extendee.typeName, numbers);
  };
  const addEnum = (e: DescEnum): void => {
    bySymbol.set(e.typeName, e.file);
    const scope = e.typeName.slice(0, e.typeName.length - e.name.length);
    for (const v of e.values) bySymbol.set(scope + v.name, e.file);
  };
  const addMessage = (m: DescMessage): void => {
    bySymbol.set(m.typeName, m.file);
    messageTypes.add(m.typeName);
    for (const f of m.fields) bySymbol.set(`${m.typeName}.${f.name}`, m.file);
    for (const o of m.oneofs) bySymbol.set(`${m.typeName}.${o.name}`, m.file);
    m.nestedMessages.forEach(addMessage);
    // protobuf-es hides map entry messages (`StatusesEntry`), but they are real messages in the descriptor.
    for (const nested of m.proto.nestedType) {
      if (nested.options?.mapEntry === true) bySymbol.set(`${m.typeName}.${nested.name}`, m.file);
    }
    m.nestedEnums.forEach(addEnum);
    m.nestedExtensions.forEach(addExtension);
  };
  const addFile = (file: DescFile): void => {
    const name = file.proto.name;
    if (byName.has(name)) return;
    byName.set(name, file);
    encoded.set(name, toBinary(FileDescriptorProtoSchema, file.proto));
    file.dependencies.forEach(addFile);
    file.messages.forEach(addMessage);
    file.enums.forEach(addEnum);
    file.extensions.forEach(addExtension);
    for (const s of file.services) {
      bySymbol.set(s.typeName, file);
      for (const m of s.methods) bySymbol.set(`${s.typeName}.${m.name}`, file);
    }
  };
  files.forEach(addFile);

  const services = [...new Set(serviceNames)].sort();
  for (const name of services) {
    const file = bySymbol.get(name);
    if (file === undefined || !file.services.some((s) => s.typeName === name)) {
      throw new Error(`reflection: service ${name} is not declared in any of the given files`);
    }
  }

  /**
   * The file first, then its transitive imports, each once: jhump/protoreflect (grpcurl) takes the first entry
   * as the answer to a symbol query. Every answer is complete; the protocol would allow omitting files sent
   * earlier on the stream, but not every client caches them.
   */
  const withImports = (file: DescFile): ReflectionAnswer => {
    const seen = new Set<string>();
    const out: Uint8Array[] = [];
    const visit = (f: DescFile): void => {
      if (seen.has(f.proto.name)) return;
      seen.add(f.proto.name);
      const bytes = encoded.get(f.proto.name);
      if (bytes !== undefined) out.push(bytes);
      f.dependencies.forEach(visit);
    };
    visit(file);
    return { case: 'fileDescriptorResponse', value: { fileDescriptorProto: out } };
  };
  const notFound = (what: string): ReflectionAnswer => ({
    case: 'errorResponse',
    value: { errorCode: status.NOT_FOUND, errorMessage: `${what} not found` },
  });

  const answer = (query: ReflectionQuery): ReflectionAnswer => {
    switch (query.case) {
      case 'listServices':
        return { case: 'listServicesResponse', value: { service: services.map((name) => ({ name })) } };
      case 'fileByFilename': {
        const file = byName.get(query.value);
        return file === undefined ? notFound(`file ${JSON.stringify(query.value)}`) : withImports(file);
      }
      case 'fileContainingSymbol': {
        // Some clients send a leading dot (".pkg.Type", the descriptor reference form).
        const symbol = query.value.startsWith('.') ? query.value.slice(1) : query.value;
        const file = bySymbol.get(symbol);
        return file === undefined ? notFound(`symbol ${JSON.stringify(query.value)}`) : withImports(file);
      }
      case 'fileContainingExtension': {
        const { containingType, extensionNumber } = query.value;
        const file = extensions.get(containingType)?.get(extensionNumber);
        return file === undefined
          ? notFound(`extension ${extensionNumber} of ${JSON.stringify(containingType)}`)
          : withImports(file);
      }
      case 'allExtensionNumbersOfType': {
        if (!messageTypes.has(query.value)) return notFound(`message type ${JSON.stringify(query.value)}`);
        const numbers = [...(extensions.get(query.value)?.keys() ?? [])].sort((a, b) => a - b);
        return {
          case: 'allExtensionNumbersResponse',
          value: { baseTypeName: query.value, extensionNumber: numbers },
        };
      }
      case undefined:
        return {
          case: 'errorResponse',
          value: {
            errorCode: status.INVALID_ARGUMENT,
            errorMessage: 'empty reflection request: set one message_request field',
          },
        };
    }
  };

  return { services, answer };
}
