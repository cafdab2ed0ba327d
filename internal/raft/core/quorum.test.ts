import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { majorityCommitIndex, quorumActive, quorumSize, voteResult } from './quorum.js';

describe('quorumSize', () => {
  for (const [n, q] of [
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
    [7, 4],
  ] as const) {
    it(`${n} voters need ${q}`, () => assert.equal(quorumSize(n), q));
  }
});

describe('majorityCommitIndex', () => {
  const cases: { name: string; voters: string[]; match: Record<string, number>; want: number }[] = [
    { name: 'empty configuration commits nothing', voters: [], match: {}, want: 0 },
    { name: 'single voter', voters: ['1'], match: { '1': 7 }, want: 7 },
    { name: 'two voters need both', voters: ['1', '2'], match: { '1': 7, '2': 5 }, want: 5 },
    { name: 'three voters: the median', voters: ['1', '2', '3'], match: { '1': 9, '2': 4, '3': 6 }, want: 6 },
    { name: 'missing voter counts as 0', voters: ['1', '2', '3'], match: { '1': 9, '2': 4 }, want: 4 },
    { name: 'non-voters are ignored', voters: ['1', '2', '3'], match: { '1': 9, '4': 9, '5': 9 }, want: 0 },
    {
      name: 'four voters need three',
      voters: ['1', '2', '3', '4'],
      match: { '1': 8, '2': 8, '3': 2, '4': 1 },
      want: 2,
    },
    {
      name: 'five voters',
      voters: ['1', '2', '3', '4', '5'],
      match: { '1': 10, '2': 9, '3': 8, '4': 1, '5': 0 },
      want: 8,
    },
  ];
  for (const c of cases) {
    it(c.name, () =>
      assert.equal(
        majorityCommitIndex(c.voters, (id) => c.match[id]),
        c.want,
      ),
    );
  }
});

describe('voteResult', () => {
  const cases: { name: string; voters: string[]; votes: [string, boolean][]; want: string }[] = [
    { name: 'no voters: lost', voters: [], votes: [], want: 'lost' },
    { name: 'single voter granted', voters: ['1'], votes: [['1', true]], want: 'won' },
    { name: 'three: one grant pending', voters: ['1', '2', '3'], votes: [['1', true]], want: 'pending' },
    {
      name: 'three: two grants win',
      voters: ['1', '2', '3'],
      votes: [
        ['1', true],
        ['3', true],
      ],
      want: 'won',
    },
    {
      name: 'three: two rejects lose',
      voters: ['1', '2', '3'],
      votes: [
        ['1', true],
        ['2', false],
        ['3', false],
      ],
      want: 'lost',
    },
    {
      name: 'three: split pending',
      voters: ['1', '2', '3'],
      votes: [
        ['1', true],
        ['2', false],
      ],
      want: 'pending',
    },
    {
      name: 'votes of non-voters ignored',
      voters: ['1', '2', '3'],
      votes: [
        ['1', true],
        ['9', true],
      ],
      want: 'pending',
    },
    {
      name: 'four: two grants pending',
      voters: ['1', '2', '3', '4'],
      votes: [
        ['1', true],
        ['2', true],
        ['3', false],
      ],
      want: 'pending',
    },
    {
      name: 'four: two rejects lose',
      voters: ['1', '2', '3', '4'],
      votes: [
        ['1', true],
        ['3', false],
        ['4', false],
      ],
      want: 'lost',
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(voteResult(c.voters, new Map(c.votes)), c.want));
  }
});

describe('quorumActive', () => {
  it('counts only voters satisfying the predicate', () => {
    assert.equal(
      quorumActive(['1', '2', '3'], (id) => id !== '3'),
      true,
    );
    assert.equal(
      quorumActive(['1', '2', '3'], (id) => id === '1'),
      false,
    );
    assert.equal(
      quorumActive(['1'], () => true),
      true,
    );
  });
});
