export type { ClientQueryOptions, TcpExchange } from './client.js';
export { queryTcp, queryUdp, sendRawTcp, sendRawUdp } from './client.js';
export { ListenError } from './listen.js';
export { encodeName, lowerName } from './name.js';
export { InvalidRecordError } from './record.js';
export { type Exchange, respond } from './respond.js';
export { classCode, className, typeCode, typeName } from './rr-type.js';
export { createDnsServer, type DnsServer, type DnsServerOptions } from './server.js';
export type {
  Answer,
  ParseError,
  ParseOutcome,
  Query,
  QueryHandler,
  Question,
  Rcode,
  RecordType,
  RequestInfo,
  ResourceRecord,
  Transport,
} from './types.js';
export {
  DEFAULT_EDNS_UDP_SIZE,
  encodeAnswer,
  encodeParseError,
  encodeQuery,
  MAX_MESSAGE_SIZE,
  MIN_UDP_SIZE,
  parseQuery,
  type QuerySpec,
  udpResponseLimit,
} from './wire.js';
