/**
 * Cluster membership: the configuration (voters + learners), single-server changes to it (Raft thesis §4.1;
 * no joint consensus) and their encodings in `conf` log entries and SnapshotMeta.conf. Pure: functions never
 * mutate their input; an invalid change is reported, not applied.
 */
import type { NodeId } from './config.js';

/** A configuration. Voters elect and count for commit; learners only receive the log. Disjoint, sorted. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

/** Kinds of single-server change. */
export type ConfChangeType = 'add-voter' | 'add-learner' | 'promote' | 'remove';

/**
 * One membership change. `context` is opaque to the core (the shell puts member addresses there) and is
 * carried in the log entry so every member learns it when it applies the entry.
 */
export interface ConfChange {
  type: ConfChangeType;
  node: NodeId;
  context?: Uint8Array;
}

/** Outcome of {@link applyConfChange}: the new configuration or why the change is invalid. */
export type ConfChangeResult = { ok: true; conf: ConfState } | { ok: false; error: string };

/** Outcome of decoding an encoded change or state. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** The configuration of a node that has never been part of a cluster. */
export function emptyConfState(): ConfState {
  return { voters: [], learners: [] };
}

/** Whether `id` is a voter of `cs`. */
export function isVoter(cs: ConfState, id: NodeId): boolean {
  return cs.voters.includes(id);
}

/** Whether `id` is a voter or learner of `cs`. */
export function isMember(cs: ConfState, id: NodeId): boolean {
  return cs.voters.includes(id) || cs.learners.includes(id);
}

const sorted = (ids: NodeId[]): NodeId[] => [...ids].sort();

/**
 * Applies one change to `cs`, returning a new ConfState. Rules: add-voter and add-learner need a node that is
 * not a member; promote needs a learner; remove needs a member and must leave at least one voter.
 */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfChangeResult {
  const { node } = cc;
  if (typeof node !== 'string' || node === '') return { ok: false, error: 'node id must be non-empty' };
  const voter = cs.voters.includes(node);
  const learner = cs.learners.includes(node);
  switch (cc.type) {
    case 'add-voter':
    case 'add-learner': {
      if (voter || learner)
        return { ok: false, error: `node ${node} is already a ${voter ? 'voter' : 'learner'}` };
      if (cc.type === 'add-voter') return { ok: true, conf: { ...cs, voters: sorted([...cs.voters, node]) } };
      return { ok: true, conf: { ...cs, learners: sorted([...cs.learners, node]) } };
    }
    case 'promote':
      if (!learner) return { ok: false, error: `node ${node} is not a learner` };
      return {
        ok: true,
        conf: { voters: sorted([...cs.voters, node]), learners: cs.learners.filter((id) => id !== node) },
      };
    case 'remove':
      if (!voter && !learner) return { ok: false, error: `node ${node} is not a member` };
      if (voter && cs.voters.length === 1) return { ok: false, error: `node ${node} is the last voter` };
      return {
        ok: true,
        conf: {
          voters: cs.voters.filter((id) => id !== node),
          learners: cs.learners.filter((id) => id !== node),
        },
      };
    default:
      return { ok: false, error: `unknown change type ${JSON.stringify((cc as { type: unknown }).type)}` };
  }
}

const CONF_TYPES: readonly string[] = ['add-voter', 'add-learner', 'promote', 'remove'];

/** Encodes a change for a `conf` entry: versioned JSON, context as base64. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const obj: Record<string, unknown> = { v: 1, type: cc.type, node: cc.node };
  if (cc.context !== undefined) obj['context'] = Buffer.from(cc.context).toString('base64');
  return new TextEncoder().encode(JSON.stringify(obj));
}

function parseObject(data: Uint8Array, what: string): DecodeResult<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(data));
  } catch (e: unknown) {
    return { ok: false, error: `${what} is not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof parsed !== 'object' || parsed === null) return { ok: false, error: `${what} is not an object` };
  const obj = parsed as Record<string, unknown>;
  if (obj['v'] !== 1) return { ok: false, error: `${what} version ${String(obj['v'])} is not 1` };
  return { ok: true, value: obj };
}

/** Decodes {@link encodeConfChange} output. */
export function decodeConfChange(data: Uint8Array): DecodeResult<ConfChange> {
  const r = parseObject(data, 'conf change');
  if (!r.ok) return r;
  const { type, node, context } = r.value;
  if (typeof type !== 'string' || !CONF_TYPES.includes(type))
    return { ok: false, error: `conf change type ${String(type)} is unknown` };
  if (typeof node !== 'string' || node === '')
    return { ok: false, error: 'conf change node must be a non-empty string' };
  const cc: ConfChange = { type: type as ConfChangeType, node };
  if (context !== undefined) {
    if (typeof context !== 'string') return { ok: false, error: 'conf change context must be base64' };
    cc.context = new Uint8Array(Buffer.from(context, 'base64'));
  }
  return { ok: true, value: cc };
}

/** Encodes a configuration for SnapshotMeta.conf: versioned JSON. */
export function encodeConfState(cs: ConfState): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, voters: cs.voters, learners: cs.learners }));
}

const isIdList = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((id) => typeof id === 'string' && id !== '');

/** Decodes {@link encodeConfState} output. */
export function decodeConfState(data: Uint8Array): DecodeResult<ConfState> {
  const r = parseObject(data, 'conf state');
  if (!r.ok) return r;
  const { voters, learners } = r.value;
  if (!isIdList(voters) || !isIdList(learners))
    return { ok: false, error: 'conf state voters and learners must be lists of non-empty strings' };
  if (voters.some((id) => learners.includes(id)))
    return { ok: false, error: 'conf state voters and learners overlap' };
  return { ok: true, value: { voters: sorted(voters), learners: sorted(learners) } };
}

/** `voters=(1,2,3) learners=(4)`, stable for logs and scenario output. */
export function describeConfState(cs: ConfState): string {
  const learners = cs.learners.length > 0 ? ` learners=(${cs.learners.join(',')})` : '';
  return `voters=(${cs.voters.join(',')})${learners}`;
}
