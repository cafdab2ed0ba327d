/**
 * Raft messages between nodes, as plain data the shell serialises. One shape for every type (as etcd's
 * raftpb.Message); which optional fields are set depends on the type, see {@link Message}.
 */
import type { Entry, Snapshot } from '../storage.js';
import { decodeConfChange } from './conf-change.js';
import type { NodeId } from './config.js';

/**
 * Message types. `propose` and `read-index` travel with term 0 (they are requests, not protocol state, so a
 * stale one must not move anyone's term); every other type carries the sender's term.
 */
export type MessageType =
  | 'append'
  | 'append-resp'
  | 'vote'
  | 'vote-resp'
  | 'pre-vote'
  | 'pre-vote-resp'
  | 'heartbeat'
  | 'heartbeat-resp'
  | 'snapshot'
  | 'timeout-now'
  | 'read-index'
  | 'read-index-resp'
  | 'propose';

/**
 * A Raft message.
 * - append: `index`/`logTerm` = the entry before `entries` (consistency check, §5.3), `commit` = leader commit.
 * - append-resp: `index` = last index now matching the leader; on `reject`, `index` = the rejected prev index,
 *   `rejectHint`/`logTerm` = the follower's last index whose term <= the leader's `logTerm` (fast backoff).
 * - vote / pre-vote: `index`/`logTerm` = candidate's last entry (§5.4.1); `transfer` = leadership transfer,
 *   granted even within a leader lease. Responses: `reject`.
 * - heartbeat: `commit` = min(follower match, leader commit); `context` = latest pending read-index context.
 * - snapshot: `snapshot` (the shell streams it in chunks; the core sees one message).
 * - read-index / read-index-resp: `context` identifies the request, `index` = the read index in the response.
 * - propose: `entries` forwarded to the leader.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  clusterId: string;
  term: number;
  logTerm?: number;
  index?: number;
  entries?: Entry[];
  commit?: number;
  reject?: boolean;
  rejectHint?: number;
  snapshot?: Snapshot;
  context?: Uint8Array;
  transfer?: boolean;
}

const decoder = new TextDecoder();

/** `index/term "data"` (data as UTF-8: tests use readable payloads), or `index/term conf add-voter 4`. */
export function describeEntry(e: Entry): string {
  if (e.kind === 'conf') {
    const cc = decodeConfChange(e.data);
    return `${e.index}/${e.term} conf ${cc.ok ? `${cc.value.type} ${cc.value.node}` : 'undecodable'}`;
  }
  return `${e.index}/${e.term} ${JSON.stringify(decoder.decode(e.data))}`;
}

/** Compact, stable one-line rendering for logs and scenario output, e.g. `1->2 append t1 prev=3/1 ...`. */
export function describeMessage(m: Message): string {
  const parts = [`${m.from}->${m.to} ${m.type} t${m.term}`];
  switch (m.type) {
    case 'append':
      parts.push(`prev=${m.index}/${m.logTerm} commit=${m.commit}`);
      if (m.entries !== undefined && m.entries.length > 0)
        parts.push(`[${m.entries.map(describeEntry).join(', ')}]`);
      break;
    case 'append-resp':
      parts.push(
        m.reject === true ? `reject=${m.index} hint=${m.rejectHint}/${m.logTerm}` : `index=${m.index}`,
      );
      break;
    case 'vote':
    case 'pre-vote':
      parts.push(`last=${m.index}/${m.logTerm}`);
      if (m.transfer === true) parts.push('transfer');
      break;
    case 'vote-resp':
    case 'pre-vote-resp':
      if (m.reject === true) parts.push('reject');
      break;
    case 'heartbeat':
      parts.push(`commit=${m.commit}`);
      break;
    case 'snapshot':
      if (m.snapshot !== undefined) parts.push(`snap=${m.snapshot.meta.index}/${m.snapshot.meta.term}`);
      break;
    case 'read-index-resp':
      parts.push(`index=${m.index}`);
      break;
    case 'propose':
      parts.push(`[${(m.entries ?? []).map(describeEntry).join(', ')}]`);
      break;
    default:
      break;
  }
  if (m.context !== undefined && m.context.byteLength > 0)
    parts.push(`ctx=${JSON.stringify(decoder.decode(m.context))}`);
  return parts.join(' ');
}
