import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { InvalidRecordError } from './record.js';
import { respond } from './respond.js';
import type { Answer, QueryHandler, RequestInfo } from './types.js';
import { encodeQuery } from './wire.js';

const udp: RequestInfo = { transport: 'udp', remoteAddress: '127.0.0.1', remotePort: 5353 };
const tcp: RequestInfo = { ...udp, transport: 'tcp' };
const packet = encodeQuery({ id: 7, name: 'app.example', type: 'A' });
const many = (n: number): Answer => ({
  rcode: 'NOERROR',
  authoritative: true,
  answers: Array.from({ length: n }, () => ({
    name: 'app.example',
    type: 'A' as const,
    ttl: 5,
    data: '192.0.2.1',
  })),
});

function reply(ex: ReturnType<typeof respond>): dnsPacket.DecodedPacket {
  assert.equal(ex.kind, 'reply', `expected a reply, got ${JSON.stringify(ex)}`);
  return dnsPacket.decode(Buffer.from((ex as { bytes: Uint8Array }).bytes));
}

describe('respond', () => {
  it('passes the query and request info to the handler and encodes its answer', () => {
    const calls: unknown[] = [];
    const handler: QueryHandler = (q, info) => {
      calls.push([q.question.name, info]);
      return many(1);
    };
    const ex = respond(packet, udp, handler, 1232);
    assert.deepEqual(
      [ex.kind === 'reply' && ex.error, reply(ex).answers?.length, calls],
      [undefined, 1, [['app.example', udp]]],
    );
  });

  it('answers SERVFAIL with the cause when the handler throws', () => {
    const boom = new Error('boom');
    const ex = respond(
      packet,
      udp,
      () => {
        throw boom;
      },
      1232,
    );
    assert.deepEqual(ex.kind === 'reply' && ex.error, {
      rcode: 'SERVFAIL',
      reason: 'query handler threw',
      cause: boom,
    });
    assert.deepEqual([reply(ex).id, (reply(ex).flags ?? 0) & 0xf], [7, 2]);
  });

  it('answers SERVFAIL when the handler returns an unencodable record', () => {
    const bad: Answer = {
      rcode: 'NOERROR',
      authoritative: true,
      answers: [{ name: 'a', type: 'A', ttl: 1, data: 'nope' }],
    };
    const ex = respond(packet, udp, () => bad, 1232);
    assert.ok(ex.kind === 'reply' && ex.error?.cause instanceof InvalidRecordError, JSON.stringify(ex));
    assert.equal((reply(ex).flags ?? 0) & 0xf, 2);
  });

  it('reports FORMERR for a malformed query without calling the handler', () => {
    const ex = respond(packet.subarray(0, 14), udp, () => assert.fail('handler called'), 1232);
    assert.deepEqual(ex.kind === 'reply' && ex.error?.rcode, 'FORMERR');
  });

  it('drops responses', () => {
    const response = Buffer.from(packet);
    response[2] = 0x80;
    assert.deepEqual(
      respond(response, udp, () => assert.fail('handler called'), 1232),
      { kind: 'drop', reason: 'response' },
    );
  });

  it('truncates at 512 over UDP without EDNS but not over TCP', () => {
    const handler = (): Answer => many(40);
    assert.deepEqual(
      [
        reply(respond(packet, udp, handler, 1232)).flag_tc,
        reply(respond(packet, tcp, handler, 1232)).answers?.length,
      ],
      [true, 40],
    );
  });
});
