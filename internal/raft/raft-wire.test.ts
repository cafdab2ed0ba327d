import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type InstallSnapshotRequest, RaftMessageSchema } from '../gen/opengslb/v1/raft_pb.js';
import type { Message } from './core/message.js';
import {
  decodeMemberAddresses,
  encodeMemberAddresses,
  messageFromWire,
  messageToWire,
  snapshotChunks,
  snapshotFromChunks,
} from './raft-wire.js';
import type { Snapshot } from './storage.js';

const enc = (s: string) => new TextEncoder().encode(s);
const base = { from: '1', to: '2', clusterId: 'c', term: 3 };

async function* iterate<T>(xs: Iterable<T>): AsyncGenerator<T> {
  yield* xs;
}

describe('messageToWire / messageFromWire', () => {
  const cases: { name: string; m: Message }[] = [
    {
      name: 'append with entries',
      m: {
        ...base,
        type: 'append',
        index: 4,
        logTerm: 2,
        commit: 4,
        entries: [
          { index: 5, term: 3, kind: 'normal', data: enc('x') },
          { index: 6, term: 3, kind: 'conf', data: enc('{}') },
        ],
      },
    },
    {
      name: 'rejected append-resp',
      m: { ...base, type: 'append-resp', index: 7, reject: true, rejectHint: 5, logTerm: 2 },
    },
    { name: 'transfer vote', m: { ...base, type: 'vote', index: 9, logTerm: 3, transfer: true } },
    { name: 'heartbeat with context', m: { ...base, type: 'heartbeat', commit: 2, context: enc('1/7') } },
    {
      name: 'propose with term 0',
      m: {
        ...base,
        type: 'propose',
        term: 0,
        entries: [{ index: 0, term: 0, kind: 'normal', data: enc('p') }],
      },
    },
  ];
  for (const c of cases) {
    it(`round-trips ${c.name}`, () => {
      const back = messageFromWire(messageToWire(c.m));
      assert.deepEqual(back, { ok: true, value: c.m });
    });
  }

  const bad: { name: string; wire: Parameters<typeof create<typeof RaftMessageSchema>>[1]; error: RegExp }[] =
    [
      {
        name: 'unknown type',
        wire: { type: 'gossip', from: '1', to: '2' },
        error: /message type "gossip" is unknown/,
      },
      {
        name: 'empty sender',
        wire: { type: 'vote', from: '', to: '2' },
        error: /from and to must be non-empty/,
      },
      {
        name: 'term beyond 2^53',
        wire: { type: 'vote', from: '1', to: '2', term: 1n << 60n },
        error: /term \d+ exceeds 9007199254740991/,
      },
      {
        name: 'unknown entry kind',
        wire: { type: 'append', from: '1', to: '2', entries: [{ index: 1n, term: 1n, kind: 'weird' }] },
        error: /entries\[0\]\.kind "weird"/,
      },
    ];
  for (const c of bad) {
    it(`refuses ${c.name}`, () => {
      const r = messageFromWire(create(RaftMessageSchema, c.wire));
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, c.error);
    });
  }
});

describe('snapshot chunks', () => {
  const snapMsg = (bytes: number): Message & { snapshot: Snapshot } => ({
    ...base,
    type: 'snapshot',
    snapshot: {
      meta: { index: 40, term: 3, conf: enc('conf') },
      data: Uint8Array.from({ length: bytes }, (_, i) => i % 251),
    },
  });

  it('splits 600 KiB into 256 KiB chunks and reassembles the same message', async () => {
    const m = snapMsg(600 * 1024);
    const chunks = [...snapshotChunks(m)];
    assert.deepEqual(
      chunks.map((c) => [c.chunk.byteLength, c.last, c.message !== undefined]),
      [
        [256 * 1024, false, true],
        [256 * 1024, false, false],
        [88 * 1024, true, false],
      ],
    );
    const r = await snapshotFromChunks(iterate(chunks), 1 << 20);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(r.value.snapshot?.meta, m.snapshot.meta);
    assert.deepEqual(new Uint8Array(r.value.snapshot?.data ?? []), m.snapshot.data);
  });

  it('sends an empty snapshot as one last chunk', async () => {
    const chunks = [...snapshotChunks(snapMsg(0))];
    assert.equal(chunks.length, 1);
    assert.equal(chunks[0]?.last, true);
    assert.equal((await snapshotFromChunks(iterate(chunks), 10)).ok, true);
  });

  const broken: { name: string; chunks: () => InstallSnapshotRequest[]; max: number; error: RegExp }[] = [
    {
      name: 'a stream without its last chunk',
      chunks: () => [...snapshotChunks(snapMsg(300), 100)].slice(0, 2),
      max: 1000,
      error: /without a last chunk/,
    },
    {
      name: 'a snapshot over the size limit',
      chunks: () => [...snapshotChunks(snapMsg(300), 100)],
      max: 250,
      error: /exceeds 250/,
    },
    { name: 'an empty stream', chunks: () => [], max: 10, error: /stream is empty/ },
    {
      name: 'a headless stream',
      chunks: () => [...snapshotChunks(snapMsg(300), 100)].slice(1),
      max: 1000,
      error: /carries no message/,
    },
  ];
  for (const c of broken) {
    it(`refuses ${c.name}`, async () => {
      const r = await snapshotFromChunks(iterate(c.chunks()), c.max);
      assert.equal(r.ok, false);
      assert.match(r.ok ? '' : r.error, c.error);
    });
  }
});

describe('member addresses', () => {
  it('round-trips and refuses garbage', () => {
    const r = decodeMemberAddresses(encodeMemberAddresses({ raft: '10.0.0.1:7000', grpc: '10.0.0.1:9443' }));
    assert.ok(r.ok);
    assert.equal(r.value.raft, '10.0.0.1:7000');
    assert.equal(decodeMemberAddresses(Uint8Array.of(0xff, 0xff, 0xff)).ok, false);
  });
});
