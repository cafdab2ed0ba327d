/**
 * Which configuration is in effect. Following the Raft thesis §4.1, a server uses the latest configuration in
 * its log, committed or not: a conf entry takes effect when it is appended, and a follower that truncates the
 * entry reverts to the configuration before it. The core keeps one point per conf entry after the latest
 * snapshot so it can revert, and so a snapshot can record the configuration at its index.
 *
 * Invariants: points are ascending by index; the first (the base: snapshot or empty log) is never truncated
 * because truncation never reaches committed entries.
 */
import { InvariantError } from '../errors.js';
import type { Entry, Storage } from '../storage.js';
import {
  applyConfChange,
  type ConfState,
  decodeConfChange,
  decodeConfState,
  describeConfState,
  emptyConfState,
} from './conf-change.js';
import type { RaftLogger } from './config.js';
import type { RaftState } from './raft.js';

/** The configuration set by the conf entry (or snapshot) at `index`. */
export interface ConfPoint {
  index: number;
  conf: ConfState;
}

/** The configuration in effect now (the latest in the log). */
export function currentConf(r: RaftState): ConfState {
  return (r.confs[r.confs.length - 1] as ConfPoint).conf;
}

/** Index of the entry that set the current configuration (0 for the empty initial one). */
export function currentConfIndex(r: RaftState): number {
  return (r.confs[r.confs.length - 1] as ConfPoint).index;
}

/** The configuration in effect at `index` (>= the base point's index). */
export function confAt(r: RaftState, index: number): ConfState {
  const base = r.confs[0] as ConfPoint;
  if (index < base.index) {
    throw new InvariantError(`confAt: index ${index} is below the oldest known configuration ${base.index}`);
  }
  let conf = base.conf;
  for (const p of r.confs) {
    if (p.index > index) break;
    conf = p.conf;
  }
  return conf;
}

function applyConfEntry(points: ConfPoint[], e: Entry, logger: RaftLogger): boolean {
  const decoded = decodeConfChange(e.data);
  if (!decoded.ok) {
    // Every member skips the same entry, so configurations stay identical; the proposer validated it.
    logger.error({ index: e.index, reason: decoded.error }, 'ignored undecodable conf entry');
    return false;
  }
  const cc = decoded.value;
  const cur = (points[points.length - 1] as ConfPoint).conf;
  const res = applyConfChange(cur, cc);
  if (!res.ok) {
    logger.error(
      { index: e.index, type: cc.type, node: cc.node, reason: res.error },
      'ignored invalid conf change',
    );
    return false;
  }
  points.push({ index: e.index, conf: res.conf });
  logger.info(
    { index: e.index, type: cc.type, node: cc.node, conf: describeConfState(res.conf) },
    'configuration changed',
  );
  return true;
}

/**
 * Entries `ents` were just appended (replacing any suffix from ents[0].index): drop configurations set by the
 * replaced entries, then apply the new conf entries. Returns whether the configuration changed.
 */
export function onAppended(r: RaftState, ents: Entry[]): boolean {
  const first = ents[0];
  if (first === undefined) return false;
  if ((r.confs[0] as ConfPoint).index >= first.index) {
    throw new InvariantError(
      `membership: append at ${first.index} would drop the base configuration at ${(r.confs[0] as ConfPoint).index}`,
    );
  }
  let changed = false;
  while ((r.confs[r.confs.length - 1] as ConfPoint).index >= first.index) {
    r.confs.pop();
    changed = true;
  }
  if (changed) r.logger.info({ conf: describeConfState(currentConf(r)) }, 'configuration reverted');
  for (const e of ents) {
    if (e.kind === 'conf' && applyConfEntry(r.confs, e, r.logger)) changed = true;
  }
  return changed;
}

/** The log was replaced by a snapshot whose configuration is `conf`. */
export function resetConfs(r: RaftState, index: number, conf: ConfState): void {
  r.confs = [{ index, conf }];
  r.logger.info({ index, conf: describeConfState(conf) }, 'configuration restored from snapshot');
}

/** Forgets points superseded at `index` (a snapshot at `index` now records the configuration there). */
export function compactConfs(r: RaftState, index: number): void {
  let keep = 0;
  for (let i = 0; i < r.confs.length; i++) if ((r.confs[i] as ConfPoint).index <= index) keep = i;
  r.confs = r.confs.slice(keep);
}

/**
 * Rebuilds the configuration points at startup: the storage snapshot's configuration (or the empty one),
 * then every conf entry after it. Throws InvariantError when the snapshot's configuration cannot be decoded
 * (the data directory is not usable).
 */
export function loadConfs(storage: Storage, logger: RaftLogger): ConfPoint[] {
  const snap = storage.snapshot();
  let base: ConfPoint = { index: 0, conf: emptyConfState() };
  if (snap !== undefined) {
    const decoded = decodeConfState(snap.meta.conf);
    if (!decoded.ok) {
      throw new InvariantError(
        `raft: snapshot ${snap.meta.index} has an unreadable configuration: ${decoded.error}`,
      );
    }
    base = { index: snap.meta.index, conf: decoded.value };
  }
  const points = [base];
  const lo = Math.max(storage.firstIndex(), base.index + 1);
  const hi = storage.lastIndex() + 1;
  if (lo < hi) {
    for (const e of storage.entries(lo, hi)) if (e.kind === 'conf') applyConfEntry(points, e, logger);
  }
  return points;
}
