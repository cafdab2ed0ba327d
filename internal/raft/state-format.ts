/**
 * The hard state and snapshot files: encodings with magic, version and a trailing CRC-32 over everything
 * before it. Both files are only ever replaced atomically (durable-file.ts), so any damage is corruption,
 * never a torn write. Integers are big-endian.
 *
 *   hardstate: magic "OGHS" | u16 version=1 | u64 term | u64 commit | u16 n | vote (n UTF-8 bytes) | u32 crc
 *   snapshot:  magic "OGSN" | u16 version=1 | u64 index | u64 term | u32 c | conf (c bytes) | data | u32 crc
 *
 * The snapshot's data runs to the CRC, so its length is the file size minus 30 minus c.
 */
import { CorruptionError } from './errors.js';
import { crc32, readU64, writeU64 } from './segment-format.js';
import type { HardState, Snapshot } from './storage.js';

/** File name of the hard state. */
export const HARD_STATE_FILE = 'hardstate';
const HARD_STATE_MAGIC = 0x4f474853; // "OGHS"
const SNAPSHOT_MAGIC = 0x4f47534e; // "OGSN"
const VERSION = 1;
const HARD_STATE_MIN_BYTES = 28;
const SNAPSHOT_MIN_BYTES = 30;

/** Encodes a hard state; the vote must fit a u16 length (storage-state bounds it far lower). */
export function encodeHardState(hs: HardState): Buffer {
  const vote = Buffer.from(hs.vote, 'utf8');
  const buf = Buffer.alloc(HARD_STATE_MIN_BYTES + vote.length);
  buf.writeUInt32BE(HARD_STATE_MAGIC, 0);
  buf.writeUInt16BE(VERSION, 4);
  writeU64(buf, hs.term, 6);
  writeU64(buf, hs.commit, 14);
  buf.writeUInt16BE(vote.length, 22);
  vote.copy(buf, 24);
  buf.writeUInt32BE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  return buf;
}

function checkFrame(buf: Buffer, file: string, magic: number, minBytes: number): void {
  if (buf.length < minBytes) {
    throw new CorruptionError(
      file,
      0,
      `file of ${buf.length} bytes is shorter than the ${minBytes}-byte minimum`,
    );
  }
  const stored = buf.readUInt32BE(buf.length - 4);
  const computed = crc32(buf.subarray(0, buf.length - 4));
  if (stored !== computed) {
    throw new CorruptionError(file, buf.length - 4, `CRC mismatch (stored ${stored}, computed ${computed})`);
  }
  if (buf.readUInt32BE(0) !== magic) throw new CorruptionError(file, 0, 'wrong magic number');
  const version = buf.readUInt16BE(4);
  if (version !== VERSION)
    throw new CorruptionError(file, 4, `unsupported version ${version}, expected ${VERSION}`);
}

/** Decodes a hard state file; throws CorruptionError naming `file` on any damage. */
export function decodeHardState(buf: Buffer, file: string): HardState {
  checkFrame(buf, file, HARD_STATE_MAGIC, HARD_STATE_MIN_BYTES);
  const term = readU64(buf, 6);
  const commit = readU64(buf, 14);
  const n = buf.readUInt16BE(22);
  if (term === undefined || commit === undefined)
    throw new CorruptionError(file, 6, 'term or commit beyond 2^53');
  if (HARD_STATE_MIN_BYTES + n !== buf.length) {
    throw new CorruptionError(file, 22, `vote length ${n} does not match the file size ${buf.length}`);
  }
  return { term, commit, vote: buf.toString('utf8', 24, 24 + n) };
}

/** `snap-<20-digit index>-<20-digit term>.snap`: names sort by index, then term. */
export function snapshotName(index: number, term: number): string {
  return `snap-${String(index).padStart(20, '0')}-${String(term).padStart(20, '0')}.snap`;
}

/** Index and term named by a snapshot file name, or undefined if `name` is not a snapshot. */
export function parseSnapshotName(name: string): { index: number; term: number } | undefined {
  const m = /^snap-(\d{20})-(\d{20})\.snap$/.exec(name);
  if (m === null) return undefined;
  const index = Number(m[1]);
  const term = Number(m[2]);
  return Number.isSafeInteger(index) && Number.isSafeInteger(term) ? { index, term } : undefined;
}

/** Encodes a snapshot file. */
export function encodeSnapshot(s: Snapshot): Buffer {
  const { conf } = s.meta;
  const buf = Buffer.allocUnsafe(SNAPSHOT_MIN_BYTES + conf.byteLength + s.data.byteLength);
  buf.writeUInt32BE(SNAPSHOT_MAGIC, 0);
  buf.writeUInt16BE(VERSION, 4);
  writeU64(buf, s.meta.index, 6);
  writeU64(buf, s.meta.term, 14);
  buf.writeUInt32BE(conf.byteLength, 22);
  buf.set(conf, 26);
  buf.set(s.data, 26 + conf.byteLength);
  buf.writeUInt32BE(crc32(buf.subarray(0, buf.length - 4)), buf.length - 4);
  return buf;
}

/** Decodes a snapshot file; conf and data are views into `buf`. Throws CorruptionError naming `file`. */
export function decodeSnapshot(buf: Buffer, file: string): Snapshot {
  checkFrame(buf, file, SNAPSHOT_MAGIC, SNAPSHOT_MIN_BYTES);
  const index = readU64(buf, 6);
  const term = readU64(buf, 14);
  const c = buf.readUInt32BE(22);
  if (index === undefined || term === undefined)
    throw new CorruptionError(file, 6, 'index or term beyond 2^53');
  if (SNAPSHOT_MIN_BYTES + c > buf.length) {
    throw new CorruptionError(file, 22, `conf length ${c} runs past the end of the ${buf.length}-byte file`);
  }
  const view = (from: number, to: number) => new Uint8Array(buf.buffer, buf.byteOffset + from, to - from);
  return { meta: { index, term, conf: view(26, 26 + c) }, data: view(26 + c, buf.length - 4) };
}
