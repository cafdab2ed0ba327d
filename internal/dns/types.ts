/** Response codes this server emits (RFC 1035 §4.1.1); all fit the 4-bit header field, so no extended RCODE. */
export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

/**
 * The single question of a query.
 *
 * Names are in presentation format (RFC 1035 §5.1) without the trailing dot: the root is `''`, a label byte that
 * is `.`, `\` or outside printable ASCII is escaped as `\.`, `\\` or `\DDD`.
 */
export interface Question {
  /** Lower-cased (ASCII only, RFC 4343 §3) for matching against configured names. */
  name: string;
  /** dns-packet's type name ('A', 'AAAA', 'MX', ...) plus 'SVCB'/'HTTPS'; otherwise 'UNKNOWN_<n>'. */
  type: string;
  /** dns-packet's class name ('IN', 'CH', ...); otherwise 'UNKNOWN_<n>'. Policy decides what to refuse. */
  class: string;
  /**
   * The name exactly as the client sent it, echoed in the response so clients using 0x20 case randomisation
   * (draft-vixie-dnsext-dns0x20) accept it. Absent: `name` is echoed.
   */
  wireName?: string;
}

/** A well-formed standard query (opcode QUERY, exactly one question). */
export interface Query {
  /** Message ID, copied into the response. */
  id: number;
  question: Question;
  /** RD flag, copied into the response (RFC 1035 §4.1.1); we never recurse (RA is always 0). */
  recursionDesired: boolean;
  /** Present when the query carried an OPT record (RFC 6891). `udpSize` is the client's raw advertised size. */
  edns: { udpSize: number; do: boolean } | undefined;
}

/**
 * What `parseQuery` made of a packet.
 *
 * - `query`: answer through the policy handler.
 * - `error`: the header was readable, so answer with `rcode` (and echo `question` when it was readable).
 * - `drop`: never answer: fewer than 12 bytes, or QR=1 (answering responses invites reflection loops).
 */
export type ParseOutcome =
  | { kind: 'query'; query: Query }
  | {
      kind: 'error';
      id: number;
      rcode: 'FORMERR' | 'NOTIMP';
      reason: string;
      recursionDesired: boolean;
      /** Opcode to copy into the response (RFC 1035 §4.1.1); absent means QUERY (0). */
      opcode?: number;
      /** The question, when it could be read before the packet proved malformed. */
      question?: Question;
    }
  | { kind: 'drop'; reason: 'short' | 'response' };

/** The `error` arm of `ParseOutcome`. */
export type ParseError = Extract<ParseOutcome, { kind: 'error' }>;

/** Record types the policy may answer with. */
export type RecordType = 'A' | 'AAAA' | 'SOA' | 'NS' | 'CNAME' | 'TXT';

/**
 * One record of class IN.
 *
 * `data` has dns-packet's shape: A/AAAA an address string, NS/CNAME a name, SOA `{ mname, rname, serial, refresh,
 * retry, expire, minimum }`, TXT a string, bytes or an array of them (each at most 255 bytes).
 */
export interface ResourceRecord {
  /** Owner name; a trailing dot is optional. */
  name: string;
  type: RecordType;
  /** Seconds, 0..2147483647 (RFC 2181 §8). */
  ttl: number;
  data: unknown;
}

/** The policy's decision for one query. */
export interface Answer {
  rcode: Rcode;
  answers: ResourceRecord[];
  /** Authority section, e.g. the zone SOA for NXDOMAIN/NODATA (RFC 2308 §3). */
  authorities?: ResourceRecord[];
  /** AA flag. */
  authoritative: boolean;
}

/** Transport a query arrived on. */
export type Transport = 'udp' | 'tcp';

/** Where a query came from. */
export interface RequestInfo {
  transport: Transport;
  /** Client IP; IPv4 peers of a dual-stack socket appear as plain IPv4, not '::ffff:a.b.c.d'. */
  remoteAddress: string;
  remotePort: number;
}

/** Policy callback; synchronous because the hot path does no I/O. Throwing makes the server answer SERVFAIL. */
export type QueryHandler = (query: Query, info: RequestInfo) => Answer;
