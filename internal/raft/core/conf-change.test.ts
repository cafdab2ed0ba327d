import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  applyConfChange,
  type ConfChange,
  type ConfState,
  decodeConfChange,
  decodeConfState,
  describeConfState,
  encodeConfChange,
  encodeConfState,
} from './conf-change.js';

const base: ConfState = { voters: ['1', '2', '3'], learners: ['4'] };

describe('applyConfChange', () => {
  const cases: { name: string; cc: ConfChange; want: string }[] = [
    { name: 'add a voter', cc: { type: 'add-voter', node: '5' }, want: 'voters=(1,2,3,5) learners=(4)' },
    { name: 'add a learner', cc: { type: 'add-learner', node: '5' }, want: 'voters=(1,2,3) learners=(4,5)' },
    { name: 'promote a learner', cc: { type: 'promote', node: '4' }, want: 'voters=(1,2,3,4)' },
    { name: 'remove a voter', cc: { type: 'remove', node: '2' }, want: 'voters=(1,3) learners=(4)' },
    { name: 'remove a learner', cc: { type: 'remove', node: '4' }, want: 'voters=(1,2,3)' },
    {
      name: 'add an existing voter',
      cc: { type: 'add-voter', node: '1' },
      want: 'error: node 1 is already a voter',
    },
    {
      name: 'add a learner as voter',
      cc: { type: 'add-voter', node: '4' },
      want: 'error: node 4 is already a learner',
    },
    { name: 'promote a voter', cc: { type: 'promote', node: '1' }, want: 'error: node 1 is not a learner' },
    { name: 'remove a stranger', cc: { type: 'remove', node: '9' }, want: 'error: node 9 is not a member' },
    { name: 'empty node id', cc: { type: 'add-voter', node: '' }, want: 'error: node id must be non-empty' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = structuredClone(base);
      const res = applyConfChange(base, c.cc);
      assert.equal(res.ok ? describeConfState(res.conf) : `error: ${res.error}`, c.want);
      assert.deepEqual(base, before, 'input not mutated');
    });
  }
  it('never removes the last voter', () => {
    const res = applyConfChange({ voters: ['1'], learners: [] }, { type: 'remove', node: '1' });
    assert.deepEqual(res, { ok: false, error: 'node 1 is the last voter' });
  });
});

describe('conf encodings', () => {
  it('round-trips a change with context', () => {
    const cc: ConfChange = { type: 'add-learner', node: 'n4', context: new Uint8Array([1, 2, 255]) };
    assert.deepEqual(decodeConfChange(encodeConfChange(cc)), { ok: true, value: cc });
  });
  it('round-trips a configuration', () => {
    assert.deepEqual(decodeConfState(encodeConfState(base)), { ok: true, value: base });
  });
  const bad: [string, string, string][] = [
    ['not JSON', 'nope', 'conf change is not JSON'],
    ['wrong version', '{"v":2,"type":"remove","node":"1"}', 'conf change version 2 is not 1'],
    ['unknown type', '{"v":1,"type":"demote","node":"1"}', 'conf change type demote is unknown'],
    ['no node', '{"v":1,"type":"remove"}', 'conf change node must be a non-empty string'],
  ];
  for (const [name, text, want] of bad) {
    it(`rejects a change: ${name}`, () => {
      const res = decodeConfChange(new TextEncoder().encode(text));
      assert.equal(res.ok, false);
      if (!res.ok) assert.match(res.error, new RegExp(`^${want}`));
    });
  }
  it('rejects overlapping voters and learners', () => {
    const res = decodeConfState(new TextEncoder().encode('{"v":1,"voters":["1"],"learners":["1"]}'));
    assert.deepEqual(res, { ok: false, error: 'conf state voters and learners overlap' });
  });
});
