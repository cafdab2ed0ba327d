import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { ListMembersResponseSchema } from '../gen/opengslb/v1/admin_pb.js';
import { renderMembers } from './admin.js';

describe('renderMembers', () => {
  it('shows id, state, voter and every service address; a missing one is "-"', () => {
    const r = create(ListMembersResponseSchema, {
      members: [
        {
          id: 'node-1',
          address: '10.0.0.1:7000',
          state: 'Leader',
          isVoter: true,
          gossipAddress: '10.0.0.1:7946',
          grpcAddress: '10.0.0.1:9443',
          apiAddress: '10.0.0.1:8080',
          dnsAddress: '10.0.0.1:53',
        },
        { id: 'edge-1', address: '10.0.9.1:7000', state: 'NonVoter', isVoter: false, grpcAddress: ':9443' },
      ],
    });
    assert.equal(
      renderMembers(r),
      [
        'ID      STATE     VOTER  RAFT           GOSSIP         GRPC           API            DNS',
        'node-1  Leader    true   10.0.0.1:7000  10.0.0.1:7946  10.0.0.1:9443  10.0.0.1:8080  10.0.0.1:53',
        'edge-1  NonVoter  false  10.0.9.1:7000  -              :9443          -              -',
      ].join('\n'),
    );
  });
  it('renders the header alone for no members', () => {
    assert.equal(
      renderMembers(create(ListMembersResponseSchema, {})),
      'ID  STATE  VOTER  RAFT  GOSSIP  GRPC  API  DNS',
    );
  });
});
