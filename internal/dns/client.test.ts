import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import dnsPacket from 'dns-packet';
import { queryTcp, queryUdp, sendRawUdp } from './client.js';

const HOST = '127.0.0.1';

/** A UDP peer on loopback that lets the test decide what to send back. */
async function udpPeer(t: TestContext, onQuery: (msg: Buffer, reply: (b: Uint8Array) => void) => void) {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => onQuery(msg, (b) => socket.send(b, rinfo.port, rinfo.address)));
  await new Promise<void>((resolve) => socket.bind(0, HOST, () => resolve()));
  t.after(() => new Promise<void>((r) => socket.close(() => r())));
  return socket.address().port;
}

describe('client', () => {
  it('queryUdp ignores replies with another ID and decodes the matching one', async (t) => {
    const port = await udpPeer(t, (msg, reply) => {
      const id = msg.readUInt16BE(0);
      const answer = (rid: number) =>
        dnsPacket.encode({ type: 'response', id: rid, questions: [{ name: 'a.example', type: 'A' }] });
      reply(answer((id + 1) & 0xffff));
      reply(answer(id));
    });
    const r = await queryUdp(HOST, port, 'a.example', 'A', { id: 77, timeoutMs: 2000 });
    assert.equal(r.id, 77);
  });

  it('queryUdp rejects on timeout naming server, question and limit', async (t) => {
    const port = await udpPeer(t, () => {});
    await assert.rejects(queryUdp(HOST, port, 'a.example', 'AAAA', { timeoutMs: 50 }), {
      message: `DNS: no udp response from ${HOST}:${port} for a.example AAAA within 50ms`,
    });
  });

  it('sendRawUdp resolves undefined when nothing comes back', async (t) => {
    const port = await udpPeer(t, () => {});
    assert.equal(await sendRawUdp(HOST, port, Buffer.from([1]), 50), undefined);
  });

  it('queryTcp rejects when nothing listens', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, HOST, () => resolve()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    await assert.rejects(
      queryTcp(HOST, port, 'a.example', 'A'),
      /DNS: cannot connect to tcp 127\.0\.0\.1:\d+: .*ECONNREFUSED/,
    );
  });
});
