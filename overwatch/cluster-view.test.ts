import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { standaloneClusterView } from './cluster-view.js';

describe('standalone cluster view', () => {
  it('is a one-member cluster led by this node', () => {
    let applied = 3;
    const v = standaloneClusterView(
      'ow-1',
      () => ({ grpc: 'g:1', api: 'a:2', dns: 'd:3' }),
      () => applied,
    );
    assert.deepEqual(v.status(), {
      mode: 'standalone',
      nodeId: 'ow-1',
      isLeader: true,
      leaderId: 'ow-1',
      leaderAddress: '',
      clusterSize: 1,
      state: 'leader',
      term: 1,
      commitIndex: 3,
      lastApplied: 3,
    });
    applied = 4;
    assert.equal(v.status().lastApplied, 4);
    assert.deepEqual(v.members(), [
      {
        id: 'ow-1',
        address: '',
        state: 'Leader',
        isVoter: true,
        gossip: '',
        grpc: 'g:1',
        api: 'a:2',
        dns: 'd:3',
      },
    ]);
  });
});
