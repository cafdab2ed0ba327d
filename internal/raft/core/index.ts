export type { ConfChange, ConfChangeType, ConfState } from './conf-change.js';
export {
  applyConfChange,
  decodeConfChange,
  decodeConfState,
  describeConfState,
  encodeConfChange,
  encodeConfState,
} from './conf-change.js';
export type { NodeId, RaftConfig, RaftLogger, Rand } from './config.js';
export { DEFAULT_MAX_INFLIGHT, DEFAULT_MAX_SIZE_PER_MSG, noopRaftLogger } from './config.js';
export type { DropReason } from './errors.js';
export { ProposalDroppedError, SnapshotOutOfDateError } from './errors.js';
export type { Message, MessageType } from './message.js';
export { describeEntry, describeMessage } from './message.js';
export type { ReadState } from './raft.js';
export { createRaft } from './raw-node.js';
export type { ProgressStatus, RaftCore, Ready, SoftState, Status } from './ready.js';
