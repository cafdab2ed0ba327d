import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { MemberAddressesSchema, RaftSnapshotDataSchema } from '../gen/opengslb/v1/raft_pb.js';
import { decodeSnapshotData, encodeSnapshotData } from './snapshot-data.js';

describe('snapshot data envelope', () => {
  it('round-trips members and state', () => {
    const members = new Map([
      ['n1', create(MemberAddressesSchema, { raft: '127.0.0.1:7001', api: '127.0.0.1:8081' })],
      ['n2', create(MemberAddressesSchema, { raft: '127.0.0.1:7002', dns: '127.0.0.1:1532' })],
    ]);
    const state = Uint8Array.of(1, 2, 3);
    const d = decodeSnapshotData(encodeSnapshotData({ members, state }), 7);
    assert.deepEqual(d.state, state);
    assert.deepEqual([...d.members.keys()].sort(), ['n1', 'n2']);
    assert.equal(d.members.get('n2')?.dns, '127.0.0.1:1532');
  });

  it('refuses an unknown version and garbage, naming the index', () => {
    const v2 = toBinary(RaftSnapshotDataSchema, create(RaftSnapshotDataSchema, { version: 2 }));
    assert.throws(
      () => decodeSnapshotData(v2, 40),
      /snapshot at 40 has data format version 2; this node reads 1/,
    );
    assert.throws(
      () => decodeSnapshotData(Uint8Array.of(0xff, 0xff, 0xff), 41),
      /snapshot at 41 is undecodable/,
    );
  });
});
