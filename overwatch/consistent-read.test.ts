import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clusterReadBarrier, parseConsistent, ReadUnavailableError } from './consistent-read.js';

describe('parseConsistent', () => {
  it('accepts true/false/1/0 and a bare flag, refuses anything else', () => {
    assert.equal(parseConsistent(null), false);
    assert.equal(parseConsistent('true'), true);
    assert.equal(parseConsistent('TRUE'), true);
    assert.equal(parseConsistent('1'), true);
    assert.equal(parseConsistent(''), true);
    assert.equal(parseConsistent('false'), false);
    assert.equal(parseConsistent('0'), false);
    assert.equal(parseConsistent('yes'), undefined);
    assert.equal(parseConsistent('tru'), undefined);
  });
});

describe('clusterReadBarrier', () => {
  it('resolves once the read index is applied', async () => {
    let calls = 0;
    await clusterReadBarrier({ readIndex: async () => ++calls }, 1000)();
    assert.equal(calls, 1);
  });

  it('turns a refused read (no leader) into ReadUnavailableError', async () => {
    const barrier = clusterReadBarrier(
      { readIndex: () => Promise.reject(new Error('raft: request dropped (not-leader)')) },
      1000,
    );
    await assert.rejects(
      barrier,
      (e: unknown) => e instanceof ReadUnavailableError && /not-leader/.test(e.message),
    );
  });

  it('gives up after its deadline when the index is never applied here', async () => {
    const started = performance.now();
    const barrier = clusterReadBarrier({ readIndex: () => new Promise<number>(() => {}) }, 50);
    await assert.rejects(
      barrier,
      (e: unknown) => e instanceof ReadUnavailableError && /within 50 ms/.test(e.message),
    );
    assert.ok(performance.now() - started < 1000);
  });
});
