/**
 * The data of the Raft shell's snapshots (opengslb.v1.RaftSnapshotData): the state machine's own snapshot plus
 * the addresses of the members at the snapshot's index. Addresses ride in conf entries' context, which
 * compaction drops, and the snapshot metadata's configuration keeps only ids (ADR 0006): without this a node
 * restarted from a snapshot, or a follower given one by InstallSnapshot, would not know where its peers are.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type MemberAddresses, RaftSnapshotDataSchema } from '../gen/opengslb/v1/raft_pb.js';
import type { NodeId } from './core/config.js';

/** The format this version writes and reads. */
export const SNAPSHOT_DATA_VERSION = 1;

/** A decoded snapshot data envelope. */
export interface SnapshotData {
  /** Member id -> addresses from its conf entry (members whose entry carried none are absent). */
  members: Map<NodeId, MemberAddresses>;
  /** The state machine's snapshot bytes. */
  state: Uint8Array;
}

/** Encodes the envelope. */
export function encodeSnapshotData(d: SnapshotData): Uint8Array {
  return toBinary(
    RaftSnapshotDataSchema,
    create(RaftSnapshotDataSchema, {
      version: SNAPSHOT_DATA_VERSION,
      members: Object.fromEntries(d.members),
      state: d.state,
    }),
  );
}

/**
 * Decodes {@link encodeSnapshotData} output. Throws an Error naming the snapshot index when the bytes are not
 * an envelope of a known version: restoring a state machine from a snapshot it cannot read would diverge.
 */
export function decodeSnapshotData(bytes: Uint8Array, index: number): SnapshotData {
  let d: ReturnType<typeof fromBinary<typeof RaftSnapshotDataSchema>>;
  try {
    d = fromBinary(RaftSnapshotDataSchema, bytes);
  } catch (e: unknown) {
    throw new Error(`raft: snapshot at ${index} is undecodable`, { cause: e });
  }
  if (d.version !== SNAPSHOT_DATA_VERSION) {
    throw new Error(
      `raft: snapshot at ${index} has data format version ${d.version}; this node reads ${SNAPSHOT_DATA_VERSION} (written by a newer version?)`,
    );
  }
  return { members: new Map(Object.entries(d.members)), state: d.state };
}
