import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createFrameReader, frameMessage } from './tcp-frames.js';

const messages = [Buffer.from('first message'), Buffer.alloc(0), Buffer.alloc(300, 7)];
const stream = Buffer.concat(messages.map(frameMessage));

describe('createFrameReader', () => {
  it('yields pipelined frames from one chunk', () => {
    assert.deepEqual(createFrameReader().push(stream), messages);
  });

  it('reassembles frames whatever the two-chunk split point', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const reader = createFrameReader();
      const got = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      assert.deepEqual(got, messages, `split at ${cut}`);
      assert.equal(reader.pendingBytes(), 0, `split at ${cut}: bytes left over`);
    }
  });

  it('reassembles frames fed one byte at a time', () => {
    const reader = createFrameReader();
    const got: Buffer[] = [];
    for (const b of stream) got.push(...reader.push(Uint8Array.of(b)).map((f) => Buffer.from(f)));
    assert.deepEqual(got, messages);
  });

  it('holds an incomplete frame', () => {
    const reader = createFrameReader();
    assert.deepEqual(reader.push(stream.subarray(0, 5)), []);
    assert.equal(reader.pendingBytes(), 5);
  });
});

describe('frameMessage', () => {
  it('prefixes the big-endian length', () => {
    assert.deepEqual(frameMessage(Buffer.from('ab')), Buffer.from([0, 2, 0x61, 0x62]));
  });
  it('refuses messages over 65535 octets', () => {
    assert.throws(() => frameMessage(new Uint8Array(65536)), /65536 octets exceeds TCP limit 65535/);
  });
});
