/**
 * Log segment files: naming, record encoding and the recovery scan that tells a torn tail (a write cut short
 * by a crash: repairable) from corruption (damaged data that may have been acknowledged: fatal).
 *
 * Record, all integers big-endian:
 *
 *   [u32 length][u32 crc32(payload)][payload = u8 kind | u64 index | u64 term | data]
 *    0          4                   8
 *
 * `length` counts the payload (17 + data bytes); kind 0 = normal, 1 = conf.
 */
import * as zlib from 'node:zlib';
import { CorruptionError } from './errors.js';
import type { Entry } from './storage.js';

const RECORD_HEADER_BYTES = 8;
const PAYLOAD_HEADER_BYTES = 17;
/** Bytes a record adds to its entry's data. */
export const RECORD_OVERHEAD_BYTES = RECORD_HEADER_BYTES + PAYLOAD_HEADER_BYTES;
const TWO_32 = 2 ** 32;
const KINDS: readonly Entry['kind'][] = ['normal', 'conf'];

/**
 * Throws unless `zlib.crc32` exists (Node >= 20.15 / 22.2). Checked at open rather than imported by name,
 * because a missing named export of a builtin fails at module link time with an unhelpful message.
 */
export function assertCrc32Available(): void {
  if (typeof zlib.crc32 !== 'function') {
    throw new Error(`raft storage needs zlib.crc32 (Node >= 20.15); this is Node ${process.version}`);
  }
}

/** CRC-32 (IEEE) of bytes. */
export function crc32(bytes: Uint8Array): number {
  return zlib.crc32(bytes) >>> 0;
}

/** `log-<20-digit first index>.seg`: names sort in index order. */
export function segmentName(firstIndex: number): string {
  return `log-${String(firstIndex).padStart(20, '0')}.seg`;
}

/** The first index named by a segment file name, or undefined if `name` is not a segment. */
export function parseSegmentName(name: string): number | undefined {
  const m = /^log-(\d{20})\.seg$/.exec(name);
  const n = m === null ? Number.NaN : Number(m[1]);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** Encodes one entry as a record. */
export function encodeRecord(e: Entry): Buffer {
  const len = PAYLOAD_HEADER_BYTES + e.data.byteLength;
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + len);
  buf.writeUInt32BE(len, 0);
  buf.writeUInt8(e.kind === 'conf' ? 1 : 0, 8);
  writeU64(buf, e.index, 9);
  writeU64(buf, e.term, 17);
  buf.set(e.data, 25);
  buf.writeUInt32BE(crc32(buf.subarray(8)), 4);
  return buf;
}

/** Writes a safe integer as a big-endian u64. */
export function writeU64(buf: Buffer, n: number, at: number): void {
  buf.writeUInt32BE(Math.floor(n / TWO_32), at);
  buf.writeUInt32BE(n >>> 0, at + 4);
}

/** Reads a big-endian u64, or undefined when it exceeds Number.MAX_SAFE_INTEGER. */
export function readU64(buf: Buffer, at: number): number | undefined {
  const n = buf.readUInt32BE(at) * TWO_32 + buf.readUInt32BE(at + 4);
  return Number.isSafeInteger(n) ? n : undefined;
}

type RecordCheck = { ok: true; length: number; entry: Entry } | { ok: false; reason: string };

function checkRecord(buf: Buffer, pos: number): RecordCheck {
  const left = buf.length - pos;
  if (left < RECORD_HEADER_BYTES)
    return { ok: false, reason: `incomplete record header (${left} of 8 bytes)` };
  const len = buf.readUInt32BE(pos);
  if (len < PAYLOAD_HEADER_BYTES)
    return { ok: false, reason: `record length ${len} is below the minimum 17` };
  if (len > left - RECORD_HEADER_BYTES) {
    return {
      ok: false,
      reason: `record length ${len} runs past the end of the file (${left - 8} bytes left)`,
    };
  }
  const payload = buf.subarray(pos + RECORD_HEADER_BYTES, pos + RECORD_HEADER_BYTES + len);
  const stored = buf.readUInt32BE(pos + 4);
  const computed = crc32(payload);
  if (stored !== computed)
    return { ok: false, reason: `CRC mismatch (stored ${stored}, computed ${computed})` };
  const kind = KINDS[payload.readUInt8(0)];
  const index = readU64(payload, 1);
  const term = readU64(payload, 9);
  if (kind === undefined || index === undefined || term === undefined) {
    return {
      ok: false,
      reason: 'record with a valid CRC holds an unknown kind or an index/term beyond 2^53',
    };
  }
  const data = new Uint8Array(
    payload.buffer,
    payload.byteOffset + PAYLOAD_HEADER_BYTES,
    len - PAYLOAD_HEADER_BYTES,
  );
  return { ok: true, length: RECORD_HEADER_BYTES + len, entry: { index, term, kind, data } };
}

/**
 * The first well-formed record after `from` holding an index >= `expected`, if any. Cheap field checks come
 * before the CRC so scanning a garbage or zero-filled tail stays linear in practice.
 */
function findValidRecord(
  buf: Buffer,
  from: number,
  expected: number,
): { offset: number; index: number } | undefined {
  const maxIndex = expected + Math.ceil((buf.length - from) / RECORD_OVERHEAD_BYTES);
  for (let q = from; q + RECORD_OVERHEAD_BYTES <= buf.length; q++) {
    const len = buf.readUInt32BE(q);
    if (len < PAYLOAD_HEADER_BYTES || len > buf.length - q - RECORD_HEADER_BYTES) continue;
    if (buf[q + 8] !== 0 && buf[q + 8] !== 1) continue;
    const index = readU64(buf, q + 9);
    if (index === undefined || index < expected || index > maxIndex) continue;
    const r = checkRecord(buf, q);
    if (r.ok) return { offset: q, index: r.entry.index };
  }
  return undefined;
}

/** What a segment holds: its entries, each record's byte offset, and a torn tail when one was found. */
export interface SegmentScan {
  entries: Entry[];
  /** offsets[i] = byte offset of the record of entries[i]. */
  offsets: number[];
  /** Bytes of intact records; the file is truncated to this when `torn` is set. */
  goodBytes: number;
  torn: { offset: number; reason: string } | undefined;
}

/**
 * Parses a segment whose first record must hold `firstIndex`. A bad record (short header, impossible length,
 * CRC mismatch) in the last segment is a torn tail when no valid record follows it: a crash cut the last
 * unsynced write short, or the file system zero-filled its end. A bad record anywhere else, or one followed
 * by a valid record, means acknowledged data is damaged: CorruptionError naming `file` and the offset.
 * Entries' data are views into `buf`.
 */
export function scanSegment(buf: Buffer, file: string, firstIndex: number, isLast: boolean): SegmentScan {
  const entries: Entry[] = [];
  const offsets: number[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const expected = firstIndex + entries.length;
    const r = checkRecord(buf, pos);
    if (!r.ok) {
      if (!isLast) throw new CorruptionError(file, pos, `${r.reason} in a segment that is not the last`);
      const later = findValidRecord(buf, pos + 1, expected);
      if (later !== undefined) {
        throw new CorruptionError(
          file,
          pos,
          `${r.reason}, yet a valid record for index ${later.index} follows at offset ${later.offset}`,
        );
      }
      return { entries, offsets, goodBytes: pos, torn: { offset: pos, reason: r.reason } };
    }
    if (r.entry.index !== expected) {
      throw new CorruptionError(file, pos, `record holds index ${r.entry.index}, expected ${expected}`);
    }
    if (entries.length > 0 && r.entry.term < (entries[entries.length - 1] as Entry).term) {
      throw new CorruptionError(file, pos, `record term ${r.entry.term} is below the previous record's`);
    }
    entries.push(r.entry);
    offsets.push(pos);
    pos += r.length;
  }
  return { entries, offsets, goodBytes: pos, torn: undefined };
}
