import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentRoute, dialableGrpc } from './agent-route.js';
import type { ClusterMemberView, ClusterStatusView, ClusterView } from './cluster-view.js';

function member(id: string, address: string, grpc: string): ClusterMemberView {
  return { id, address, state: 'Follower', isVoter: true, gossip: '', grpc, api: '', dns: '' };
}

function view(isLeader: boolean, leaderId: string, members: ClusterMemberView[]): ClusterView {
  const status = {
    mode: 'cluster',
    nodeId: 'node-2',
    isLeader,
    leaderId,
    leaderAddress: '',
    clusterSize: members.length,
    state: isLeader ? 'leader' : 'follower',
    term: 2,
    commitIndex: 5,
    lastApplied: 5,
  } satisfies ClusterStatusView;
  return { status: () => status, members: () => members };
}

describe('agentRoute', () => {
  const members = [
    member('node-1', '10.0.1.1:7000', '10.0.1.1:9443'),
    member('node-2', '10.0.1.2:7000', ':9443'),
  ];

  it('serves on the leader', () => {
    assert.deepEqual(agentRoute(view(true, 'node-2', members)), { kind: 'serve' });
  });

  it("redirects a follower's agents to the leader's gRPC address", () => {
    assert.deepEqual(agentRoute(view(false, 'node-1', members)), {
      kind: 'redirect',
      leaderId: 'node-1',
      address: '10.0.1.1:9443',
    });
  });

  it('is unavailable with no leader, or a leader without a gRPC address', () => {
    assert.equal(agentRoute(view(false, '', members)).kind, 'unavailable');
    assert.equal(
      agentRoute(view(false, 'node-1', [member('node-1', '10.0.1.1:7000', '')])).kind,
      'unavailable',
    );
  });
});

describe('dialableGrpc', () => {
  it('takes the Raft host for a wildcard gRPC listener', () => {
    assert.equal(dialableGrpc(member('a', '10.0.1.2:7000', ':9443')), '10.0.1.2:9443');
    assert.equal(dialableGrpc(member('a', '[fd00::2]:7000', '0.0.0.0:9443')), '[fd00::2]:9443');
    assert.equal(dialableGrpc(member('a', '127.0.0.1:7000', '127.0.0.5:9443')), '127.0.0.5:9443');
    assert.equal(dialableGrpc(member('a', ':7000', ':9443')), undefined);
  });
});
