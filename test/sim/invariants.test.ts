import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Entry } from '../../internal/raft/storage.js';
import { createInvariantChecker, type LogView } from './invariants.js';

const enc = new TextEncoder();
const entry = (index: number, term: number, text: string): Entry => ({
  index,
  term,
  kind: 'normal',
  data: enc.encode(text),
});
const view = (terms: number[]): LogView => ({
  firstIndex: 1,
  lastIndex: terms.length,
  term: (i) => (i === 0 ? 0 : (terms[i - 1] as number)),
});

describe('invariant checker', () => {
  it('rejects two leaders in one term but accepts one leader per term', () => {
    const c = createInvariantChecker();
    c.observe('1', 'leader', 2, 0);
    c.observe('1', 'leader', 2, 0);
    c.observe('2', 'leader', 3, 0);
    assert.throws(() => c.observe('3', 'leader', 2, 0), /election safety violated: nodes 1 and 3/);
  });

  it('rejects an (index, term) written with another payload or predecessor', () => {
    const c = createInvariantChecker();
    c.appended('1', [entry(1, 1, 'a'), entry(2, 1, 'b')], 0);
    c.appended('2', [entry(2, 1, 'b')], 1);
    assert.throws(() => c.appended('3', [entry(2, 1, 'x')], 1), /log matching violated: node 3 wrote 2\/1/);
    assert.throws(
      () => c.appended('3', [entry(2, 1, 'b')], 0),
      /after term 0, another log has it after term 1/,
    );
  });

  it('rejects different entries applied at one index', () => {
    const c = createInvariantChecker();
    c.applied('1', entry(1, 1, 'a'), 1);
    c.applied('2', entry(1, 1, 'a'), 1);
    assert.throws(
      () => c.applied('3', entry(1, 2, 'b'), 2),
      /state machine safety violated: node 3 applied 1\/2/,
    );
  });

  it('rejects a leader of a later term that lacks a committed entry, whichever is seen first', () => {
    const c = createInvariantChecker();
    c.observe('1', 'leader', 1, 2);
    c.applied('1', entry(2, 1, 'a'), 1);
    assert.throws(() => c.leaderLog('2', 2, view([1])), /leader completeness violated: index 2 \(term 1\)/);

    const d = createInvariantChecker();
    d.leaderLog('2', 3, view([1, 2]));
    d.observe('1', 'leader', 1, 2);
    assert.throws(() => d.applied('1', entry(2, 1, 'a'), 1), /leader 2 of term 3 has term 2/);
    // A leader of the committing term or an earlier one need not have it.
    d.leaderLog('1', 1, view([1]));
  });

  it('rejects an acknowledged proposal missing from a member at the end', () => {
    const c = createInvariantChecker();
    c.acknowledged('p1', 4);
    c.checkAcknowledged(new Map([['1', new Map([[4, 'p1']])]]));
    assert.throws(
      () => c.checkAcknowledged(new Map([['2', new Map([[4, 'p2']])]])),
      /"p1" was acknowledged at index 4, node 2 has "p2" there/,
    );
  });
});
