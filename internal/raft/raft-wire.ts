/**
 * Conversions between the core's Message and the wire's opengslb.v1.RaftMessage, snapshot chunking, and the
 * member addresses carried in ConfChange.context. Wire input is untrusted: decoding validates it and reports
 * a reason instead of throwing, so the server answers INVALID_ARGUMENT and keeps serving.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import {
  type InstallSnapshotRequest,
  InstallSnapshotRequestSchema,
  type MemberAddresses,
  MemberAddressesSchema,
  type RaftEntry,
  RaftEntrySchema,
  type RaftMessage,
  RaftMessageSchema,
} from '../gen/opengslb/v1/raft_pb.js';
import type { Message, MessageType } from './core/message.js';
import type { Entry, Snapshot } from './storage.js';

/** Snapshot data bytes per InstallSnapshot chunk: 256 KiB, far below the 4 MiB gRPC message limit. */
export const SNAPSHOT_CHUNK_BYTES = 256 * 1024;

/** Outcome of decoding wire input. */
export type WireResult<T> = { ok: true; value: T } | { ok: false; error: string };

const MESSAGE_TYPES: ReadonlySet<string> = new Set<MessageType>([
  'append',
  'append-resp',
  'vote',
  'vote-resp',
  'pre-vote',
  'pre-vote-resp',
  'heartbeat',
  'heartbeat-resp',
  'snapshot',
  'timeout-now',
  'read-index',
  'read-index-resp',
  'propose',
]);

const big = (n: number | undefined): bigint => BigInt(n ?? 0);

/** A plain Uint8Array view of decoded bytes (grpc-js hands out Buffers; stored data should not differ by type). */
const plain = (b: Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** The wire form of a core message; a snapshot travels separately (see {@link snapshotChunks}). */
export function messageToWire(m: Message): RaftMessage {
  return create(RaftMessageSchema, {
    type: m.type,
    from: m.from,
    to: m.to,
    clusterId: m.clusterId,
    term: big(m.term),
    logTerm: big(m.logTerm),
    index: big(m.index),
    entries: (m.entries ?? []).map((e) =>
      create(RaftEntrySchema, { index: big(e.index), term: big(e.term), kind: e.kind, data: e.data }),
    ),
    commit: big(m.commit),
    reject: m.reject === true,
    rejectHint: big(m.rejectHint),
    context: m.context ?? new Uint8Array(0),
    transfer: m.transfer === true,
  });
}

/** A uint64 as a safe integer, or an error naming the field and the limit. */
function toNumber(v: bigint, field: string): WireResult<number> {
  if (v > BigInt(Number.MAX_SAFE_INTEGER))
    return { ok: false, error: `${field} ${v} exceeds ${Number.MAX_SAFE_INTEGER}` };
  return { ok: true, value: Number(v) };
}

function entryFromWire(e: RaftEntry, i: number): WireResult<Entry> {
  if (e.kind !== 'normal' && e.kind !== 'conf')
    return { ok: false, error: `entries[${i}].kind ${JSON.stringify(e.kind)} is not normal or conf` };
  const index = toNumber(e.index, `entries[${i}].index`);
  if (!index.ok) return index;
  const term = toNumber(e.term, `entries[${i}].term`);
  if (!term.ok) return term;
  return { ok: true, value: { index: index.value, term: term.value, kind: e.kind, data: plain(e.data) } };
}

/** The core message of a wire message; zero fields are left out, as the core treats absent as zero. */
export function messageFromWire(w: RaftMessage): WireResult<Message> {
  if (!MESSAGE_TYPES.has(w.type))
    return { ok: false, error: `message type ${JSON.stringify(w.type)} is unknown` };
  if (w.from === '' || w.to === '') return { ok: false, error: 'message from and to must be non-empty' };
  const nums: Partial<Record<'term' | 'logTerm' | 'index' | 'commit' | 'rejectHint', number>> = {};
  for (const field of ['term', 'logTerm', 'index', 'commit', 'rejectHint'] as const) {
    const r = toNumber(w[field], field);
    if (!r.ok) return r;
    nums[field] = r.value;
  }
  const m: Message = {
    type: w.type as MessageType,
    from: w.from,
    to: w.to,
    clusterId: w.clusterId,
    term: nums.term ?? 0,
  };
  if (nums.logTerm) m.logTerm = nums.logTerm;
  if (nums.index) m.index = nums.index;
  if (nums.commit) m.commit = nums.commit;
  if (nums.rejectHint) m.rejectHint = nums.rejectHint;
  if (w.reject) m.reject = true;
  if (w.transfer) m.transfer = true;
  if (w.context.byteLength > 0) m.context = plain(w.context);
  if (w.entries.length > 0) {
    const entries: Entry[] = [];
    for (const [i, we] of w.entries.entries()) {
      const e = entryFromWire(we, i);
      if (!e.ok) return e;
      entries.push(e.value);
    }
    m.entries = entries;
  }
  return { ok: true, value: m };
}

/**
 * The InstallSnapshot stream of a snapshot message: the first chunk carries the message and the snapshot
 * metadata, every chunk up to `chunkBytes` of data, the last one `last = true` (an empty snapshot is one chunk).
 */
export function* snapshotChunks(
  m: Message & { snapshot: Snapshot },
  chunkBytes = SNAPSHOT_CHUNK_BYTES,
): Generator<InstallSnapshotRequest> {
  const { meta, data } = m.snapshot;
  let offset = 0;
  do {
    const end = Math.min(offset + chunkBytes, data.byteLength);
    const last = end >= data.byteLength;
    yield create(
      InstallSnapshotRequestSchema,
      offset === 0
        ? {
            message: messageToWire(m),
            snapshotIndex: big(meta.index),
            snapshotTerm: big(meta.term),
            conf: meta.conf,
            chunk: data.subarray(offset, end),
            last,
          }
        : { chunk: data.subarray(offset, end), last },
    );
    offset = end;
  } while (offset < data.byteLength);
}

/**
 * Reassembles a snapshot message from its chunks; refuses a stream without a leading message, without a last
 * chunk, with data after the last chunk, or with more than `maxBytes` of data. `onHead` sees the leading
 * message before any data is buffered and may throw to abort the stream (a foreign cluster id).
 */
export async function snapshotFromChunks(
  chunks: AsyncIterable<InstallSnapshotRequest>,
  maxBytes: number,
  onHead: (m: Message) => void = () => {},
): Promise<WireResult<Message>> {
  let head: Message | undefined;
  let meta: Snapshot['meta'] | undefined;
  const parts: Uint8Array[] = [];
  let size = 0;
  let done = false;
  for await (const c of chunks) {
    if (done) return { ok: false, error: 'snapshot chunk after the last one' };
    if (head === undefined) {
      if (c.message === undefined) return { ok: false, error: 'first snapshot chunk carries no message' };
      const m = messageFromWire(c.message);
      if (!m.ok) return m;
      if (m.value.type !== 'snapshot')
        return { ok: false, error: `InstallSnapshot carries a ${m.value.type} message` };
      const index = toNumber(c.snapshotIndex, 'snapshot_index');
      if (!index.ok) return index;
      const term = toNumber(c.snapshotTerm, 'snapshot_term');
      if (!term.ok) return term;
      onHead(m.value);
      head = m.value;
      meta = { index: index.value, term: term.value, conf: plain(c.conf) };
    }
    size += c.chunk.byteLength;
    if (size > maxBytes)
      return { ok: false, error: `snapshot of more than ${size} bytes exceeds ${maxBytes}` };
    parts.push(c.chunk);
    done = c.last;
  }
  if (head === undefined || meta === undefined) return { ok: false, error: 'snapshot stream is empty' };
  if (!done) return { ok: false, error: `snapshot stream ended after ${size} bytes without a last chunk` };
  return { ok: true, value: { ...head, snapshot: { meta, data: plain(Buffer.concat(parts)) } } };
}

/** The addresses of a member, for ConfChange.context (the shell reads `raft` to reach the member). */
export function encodeMemberAddresses(a: Partial<Omit<MemberAddresses, '$typeName'>>): Uint8Array {
  return toBinary(MemberAddressesSchema, create(MemberAddressesSchema, a));
}

/** Decodes {@link encodeMemberAddresses} output. */
export function decodeMemberAddresses(data: Uint8Array): WireResult<MemberAddresses> {
  try {
    return { ok: true, value: fromBinary(MemberAddressesSchema, data) };
  } catch (e: unknown) {
    return {
      ok: false,
      error: `member addresses undecodable: ${e instanceof Error ? e.message : String(e)}`,
    };
  }
}
