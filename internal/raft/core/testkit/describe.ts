/**
 * Stable text renderings of Ready, status and logs for scenario output. Test-only: never imported by
 * production code.
 */
import type { Storage } from '../../storage.js';
import { decodeConfState, describeConfState } from '../conf-change.js';
import { describeEntry, describeMessage } from '../message.js';
import type { Ready, Status } from '../ready.js';

function describeSnapshotMeta(conf: Uint8Array): string {
  const cs = decodeConfState(conf);
  return cs.ok ? describeConfState(cs.value) : `unreadable conf (${cs.error})`;
}

/**
 * One Ready as lines: header, then soft/hard state, appended entries, snapshot, applied entries, reads and
 * sent messages (`suffixes[i]` is appended to message i, e.g. a drop note).
 */
export function describeReady(id: string, rd: Ready, suffixes: string[]): string[] {
  const out = [`> ${id} handling Ready${rd.mustSync ? ' (sync)' : ''}`];
  if (rd.softState !== undefined)
    out.push(`  soft leader=${rd.softState.leader || '-'} role=${rd.softState.role}`);
  if (rd.hardState !== undefined) {
    const h = rd.hardState;
    out.push(`  hard term=${h.term} vote=${h.vote || '-'} commit=${h.commit}`);
  }
  if (rd.snapshot !== undefined) {
    const { meta } = rd.snapshot;
    out.push(`  install snapshot ${meta.index}/${meta.term} ${describeSnapshotMeta(meta.conf)}`);
  }
  for (const e of rd.entries) out.push(`  append ${describeEntry(e)}`);
  for (const e of rd.committed) out.push(`  apply ${describeEntry(e)}`);
  for (const rs of rd.readStates) {
    out.push(`  read-state index=${rs.index} ctx=${JSON.stringify(new TextDecoder().decode(rs.context))}`);
  }
  rd.messages.forEach((m, i) => {
    out.push(`  send ${describeMessage(m)}${suffixes[i] ?? ''}`);
  });
  return out;
}

/** Status as lines: role, term, indexes, configuration and (on a leader) each member's progress. */
export function describeStatus(st: Status): string[] {
  const out = [
    `${st.id} ${st.role} term=${st.term} vote=${st.vote || '-'} leader=${st.leader || '-'} ` +
      `commit=${st.commit} applied=${st.applied} last=${st.lastIndex}`,
    `conf ${describeConfState(st.conf)}`,
  ];
  if (st.transferee !== undefined && st.transferee !== '') out.push(`transferring to ${st.transferee}`);
  if (st.progress !== undefined) {
    for (const [id, p] of Object.entries(st.progress).sort(([a], [b]) =>
      a.localeCompare(b, 'en', { numeric: true }),
    )) {
      out.push(`${id}: ${p.state} match=${p.match} next=${p.next}${p.recentActive ? '' : ' inactive'}`);
    }
  }
  return out;
}

/** The stored log: snapshot, then every retained entry. */
export function describeStorageLog(s: Storage): string[] {
  const out: string[] = [];
  const snap = s.snapshot();
  if (snap !== undefined)
    out.push(`snapshot ${snap.meta.index}/${snap.meta.term} ${describeSnapshotMeta(snap.meta.conf)}`);
  const lo = s.firstIndex();
  const hi = s.lastIndex() + 1;
  if (lo < hi) for (const e of s.entries(lo, hi)) out.push(describeEntry(e));
  if (out.length === 0) out.push('log is empty');
  return out;
}
