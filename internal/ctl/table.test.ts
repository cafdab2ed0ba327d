import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderTable } from './table.js';

describe('renderTable', () => {
  it('aligns columns and marks empty cells', () => {
    const got = renderTable(
      ['address', 'healthy', 'rtt_ms'],
      [
        ['10.0.0.1', true, 1.5],
        ['2001:db8::10', false, null],
      ],
    );
    assert.equal(
      got,
      ['ADDRESS       HEALTHY  RTT_MS', '10.0.0.1      true     1.5', '2001:db8::10  false    -'].join('\n'),
    );
  });
  it('renders headers alone for no rows', () => {
    assert.equal(renderTable(['a', 'bb'], []), 'A  BB');
  });
});
