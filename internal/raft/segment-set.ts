/**
 * The segment files as they will be once every pending write is done, plus the plan to get there. Appends
 * and truncations change this model at once (append() is synchronous); `takeJob()` hands the accumulated
 * file operations to one sync, which performs them in order. No I/O happens here.
 *
 * Ordering rules the plan follows, so a crash at any point leaves a directory that opens cleanly:
 * - segments removed by a truncation are unlinked newest first, before the cut segment is truncated,
 *   so the files left always form a contiguous run;
 * - segments are written in index order, each fsynced before the next is created, so only the last segment
 *   can ever have a torn tail.
 */
import { InvariantError } from './errors.js';
import { encodeRecord, segmentName } from './segment-format.js';
import type { Entry } from './storage.js';

/** A segment as found at open. */
export interface LoadedSegment {
  first: number;
  /** Byte offset of each record, in index order. */
  offsets: number[];
  size: number;
}

/** One segment's share of a sync: optional truncate, then write `bytes` at `position`, then fsync. */
export interface SegmentWrite {
  name: string;
  truncateTo: number | undefined;
  position: number;
  bytes: Buffer;
  /** The file does not exist yet: fsync the directory after it, before creating the next one. */
  create: boolean;
}

/** The file operations of one sync: unlinks first (newest first), then writes in index order. */
export interface SegmentJob {
  unlinks: string[];
  writes: SegmentWrite[];
}

interface Segment {
  first: number;
  name: string;
  offsets: number[];
  /** Size once pending bytes are written. */
  size: number;
  /** Bytes already handed to a sync (after any truncation). */
  durable: number;
  /** The file must be truncated to `durable` before pending bytes are written. */
  truncate: boolean;
  pending: Buffer[];
  onDisk: boolean;
}

/** The model and its plan. */
export interface SegmentSet {
  /** Records `entries` (already validated), first truncating at `cut` when set. */
  append(entries: Entry[], cut: number | undefined): void;
  /** Removes whole segments whose entries all lie below `keepFrom` (never the last); returns names to unlink, oldest first. */
  compact(keepFrom: number): string[];
  /** Drops every segment and pending write (InstallSnapshot); returns names to unlink, newest first. */
  reset(): string[];
  /** Takes the pending operations, if any; later appends start a new plan. */
  takeJob(): SegmentJob | undefined;
  /** Segment file names in index order, including ones not written yet. */
  names(): string[];
}

/** Creates the model over the segments found at open (contiguous, in index order). */
export function createSegmentSet(loaded: LoadedSegment[], segmentBytes: number): SegmentSet {
  const segs: Segment[] = loaded.map((l) => ({
    first: l.first,
    name: segmentName(l.first),
    offsets: l.offsets.slice(),
    size: l.size,
    durable: l.size,
    truncate: false,
    pending: [],
    onDisk: true,
  }));
  let doomed: string[] = [];

  function truncateAt(cut: number): void {
    let k = segs.length - 1;
    while (k > 0 && (segs[k] as Segment).first > cut) k--;
    const seg = segs[k];
    if (seg === undefined || cut < seg.first || cut >= seg.first + seg.offsets.length) {
      throw new InvariantError(`segments: truncation at ${cut} is outside the segment files`);
    }
    for (const gone of segs.splice(k + 1).reverse()) if (gone.onDisk) doomed.push(gone.name);
    const at = seg.offsets[cut - seg.first] as number;
    seg.offsets.length = cut - seg.first;
    seg.size = at;
    if (at < seg.durable) {
      seg.durable = at;
      seg.truncate = true;
      seg.pending = [];
      return;
    }
    // The cut falls in bytes not yet written: trim the pending buffers instead of touching the file.
    let keep = at - seg.durable;
    const kept: Buffer[] = [];
    for (const b of seg.pending) {
      if (keep === 0) break;
      kept.push(b.length <= keep ? b : b.subarray(0, keep));
      keep -= Math.min(keep, b.length);
    }
    seg.pending = kept;
  }

  function append(entries: Entry[], cut: number | undefined): void {
    if (cut !== undefined) truncateAt(cut);
    for (const e of entries) {
      let tail = segs[segs.length - 1];
      if (tail === undefined || (tail.size >= segmentBytes && tail.offsets.length > 0)) {
        tail = {
          first: e.index,
          name: segmentName(e.index),
          offsets: [],
          size: 0,
          durable: 0,
          truncate: false,
          pending: [],
          onDisk: false,
        };
        segs.push(tail);
      }
      if (e.index !== tail.first + tail.offsets.length) {
        throw new InvariantError(
          `segments: entry ${e.index} does not follow ${tail.first + tail.offsets.length - 1}`,
        );
      }
      const rec = encodeRecord(e);
      tail.offsets.push(tail.size);
      tail.pending.push(rec);
      tail.size += rec.length;
    }
  }

  function compact(keepFrom: number): string[] {
    let n = 0;
    while (n + 1 < segs.length && (segs[n + 1] as Segment).first <= keepFrom) n++;
    return segs
      .splice(0, n)
      .filter((s) => s.onDisk)
      .map((s) => s.name);
  }

  function reset(): string[] {
    const names = [
      ...doomed,
      ...segs
        .filter((s) => s.onDisk)
        .map((s) => s.name)
        .reverse(),
    ];
    segs.length = 0;
    doomed = [];
    return names;
  }

  function takeJob(): SegmentJob | undefined {
    const writes: SegmentWrite[] = [];
    for (const seg of segs) {
      if (!seg.truncate && seg.pending.length === 0) continue;
      writes.push({
        name: seg.name,
        truncateTo: seg.truncate ? seg.durable : undefined,
        position: seg.durable,
        bytes: seg.pending.length === 1 ? (seg.pending[0] as Buffer) : Buffer.concat(seg.pending),
        create: !seg.onDisk,
      });
      seg.durable = seg.size;
      seg.truncate = false;
      seg.pending = [];
      // From here on the file exists as far as later plans are concerned: the job creating it runs first.
      seg.onDisk = true;
    }
    if (writes.length === 0 && doomed.length === 0) return undefined;
    const job = { unlinks: doomed, writes };
    doomed = [];
    return job;
  }

  return { append, compact, reset, takeJob, names: () => segs.map((s) => s.name) };
}
