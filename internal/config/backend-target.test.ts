import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBackendTarget } from './backend-target.js';

describe('parseBackendTarget', () => {
  const cases: Array<[string, ReturnType<typeof parseBackendTarget>]> = [
    ['10.0.1.10:80', { address: '10.0.1.10', port: 80 }],
    ['[::1]:8081', { address: '::1', port: 8081 }],
    ['[2001:db8::5]:65535', { address: '2001:db8::5', port: 65535 }],
    ['10.0.1.10', undefined],
    ['10.0.1.10:0', undefined],
    ['10.0.1.10:65536', undefined],
    ['::1:80', undefined],
    ['[10.0.1.10]:80', undefined],
    ['999.0.0.1:80', undefined],
    ['app.example.com:80', undefined],
    ['', undefined],
  ];
  for (const [input, want] of cases) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(want)}`, () =>
      assert.deepEqual(parseBackendTarget(input), want));
  }
});
