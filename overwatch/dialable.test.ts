import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dialable } from './dialable.js';

describe('dialable', () => {
  const cases: Array<[string, string, string | undefined]> = [
    [':9443', '10.0.1.1:7000', '10.0.1.1:9443'],
    ['0.0.0.0:53', '10.0.1.1:7000', '10.0.1.1:53'],
    ['[::]:8080', '[2001:db8::1]:7000', '[2001:db8::1]:8080'],
    ['127.0.0.1:9441', '10.0.1.1:7000', '127.0.0.1:9441'],
    [':9443', '0.0.0.0:7000', undefined],
    ['', '10.0.1.1:7000', undefined],
  ];
  for (const [listen, raft, want] of cases)
    it(`${JSON.stringify(listen)} via ${raft} -> ${String(want)}`, () =>
      assert.equal(dialable(listen, raft), want));
});
