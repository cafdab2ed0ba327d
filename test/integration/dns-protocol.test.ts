/**
 * DNS protocol behaviour of the real server: REFUSED outside our names, NXDOMAIN and NODATA with the SOA,
 * TCP answers equal to UDP ones, and malformed packets dropped or answered FORMERR without harming service.
 * Addresses 127.0.3.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type dnsPacket from 'dns-packet';
import { sendRawTcp, sendRawUdp } from '../../internal/dns/client.js';
import { frameMessage } from '../../internal/dns/tcp-frames.js';
import { encodeQuery } from '../../internal/dns/wire.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig, serversOf } from '../testkit/config.js';
import { waitHealth } from '../testkit/observe.js';
import { answerData, type RunningOpengslb, rcodeOf, startOpengslb } from '../testkit/opengslb.js';
import { metricSum } from '../testkit/prom-text.js';

const ADDRESSES = ['127.0.3.2', '127.0.3.3'];
const APP = 'app.example.com';
/** How long a packet that must be dropped gets to prove it is not answered. */
const NO_REPLY_MS = 400;

/** The parts of a response that must not depend on the transport; address order is the rotation's. */
function normalized(p: dnsPacket.DecodedPacket): unknown {
  const rr = (list: dnsPacket.Answer[] | undefined): string[] =>
    (list ?? [])
      .map(
        (a) =>
          `${a.name} ${a.type} ${'ttl' in a ? a.ttl : '-'} ${JSON.stringify('data' in a ? a.data : null)}`,
      )
      .sort();
  return {
    rcode: rcodeOf(p),
    aa: p.flag_aa,
    tc: p.flag_tc,
    questions: p.questions,
    answers: rr(p.answers),
    authorities: rr(p.authorities),
  };
}

/** The SOA records of the authority section. */
function authoritySoa(p: dnsPacket.DecodedPacket): dnsPacket.Answer[] {
  return (p.authorities ?? []).filter((a) => a.type === 'SOA');
}

/** ID, QR bit and rcode straight from the header bytes (RFC 1035 §4.1.1). */
function header(reply: Buffer): { id: number; qr: boolean; rcode: number } {
  const flags = reply.readUInt16BE(2);
  return { id: reply.readUInt16BE(0), qr: (flags & 0x8000) !== 0, rcode: flags & 0xf };
}

const FORMERR = 1;

describe('DNS protocol', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];

  before(async () => {
    backends = await startBackends(ADDRESSES);
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [{ name: 'r', servers: serversOf(backends), health_check: FAST_CHECK }],
          domains: [
            { name: APP, regions: ['r'], max_records: 2 },
            { name: 'fo.example.net', routing_algorithm: 'failover', regions: ['r'] },
          ],
        }),
    });
    await waitHealth(run, Object.fromEntries(ADDRESSES.map((a) => [a, true])));
  });

  after(async () => {
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  describe('answer classes', () => {
    const refused = ['example.org', 'other.example.com', 'example.com', 'fo.example.org'];
    for (const name of refused) {
      it(`REFUSED for ${name}, outside every configured name`, async () => {
        assert.ok(run);
        const r = await run.udp(name);
        assert.equal(rcodeOf(r), 'REFUSED');
        assert.equal(r.flag_aa, false, 'not authoritative for it');
        assert.deepEqual(r.answers, []);
      });
    }

    it(`NXDOMAIN with the SOA in authority for x.${APP}`, async () => {
      assert.ok(run);
      const r = await run.udp(`x.${APP}`);
      assert.equal(rcodeOf(r), 'NXDOMAIN');
      assert.equal(r.flag_aa, true);
      assert.deepEqual(r.answers, []);
      const soa = authoritySoa(r);
      assert.equal(soa.length, 1, `one SOA in authority, got ${JSON.stringify(r.authorities)}`);
      assert.equal(soa[0]?.name, APP, 'SOA owner is the zone apex');
    });

    for (const type of ['HTTPS', 'MX', 'TXT', 'AAAA']) {
      it(`NODATA (NOERROR, no answer, SOA) for ${type} on an IPv4-only name`, async () => {
        assert.ok(run);
        const r = await run.udp(APP, type);
        assert.equal(rcodeOf(r), 'NOERROR');
        assert.equal(r.flag_aa, true);
        assert.deepEqual(r.answers, [], `${type} must carry no answer records`);
        assert.equal(authoritySoa(r).length, 1, `SOA in authority, got ${JSON.stringify(r.authorities)}`);
      });
    }

    it('A for the configured name carries the backends', async () => {
      assert.ok(run);
      assert.deepEqual(await run.addresses(APP), ADDRESSES);
    });
  });

  describe('TCP', () => {
    const questions: Array<[string, string]> = [
      [APP, 'A'],
      ['fo.example.net', 'A'],
      [APP, 'SOA'],
      [APP, 'MX'],
      [APP, 'AAAA'],
      [`x.${APP}`, 'A'],
      ['example.org', 'A'],
    ];
    for (const [name, type] of questions) {
      it(`answers ${name} ${type} exactly as UDP does`, async () => {
        assert.ok(run);
        const [udp, tcp] = await Promise.all([run.udp(name, type), run.tcp(name, type)]);
        assert.deepEqual(normalized(tcp), normalized(udp));
      });
    }
  });

  describe('malformed packets', () => {
    const ID = 0x4242;
    const query = (): Buffer => Buffer.from(encodeQuery({ id: ID, name: APP, type: 'A' }));
    let metricsBefore = '';

    before(async () => {
      assert.ok(run);
      metricsBefore = await run.metrics();
    });

    it('drops a 5-byte packet', async () => {
      assert.ok(run);
      const reply = await sendRawUdp(
        '127.0.0.1',
        run.ports.dns,
        Buffer.from([0x42, 0x42, 1, 0, 0]),
        NO_REPLY_MS,
      );
      assert.equal(reply, undefined, 'no reply to a packet shorter than a header');
    });

    it('drops a response packet (QR=1) on UDP, and closes a TCP stream carrying one', async () => {
      assert.ok(run);
      const response = query();
      response[2] = (response[2] as number) | 0x80;
      assert.equal(await sendRawUdp('127.0.0.1', run.ports.dns, response, NO_REPLY_MS), undefined);
      const tcp = await sendRawTcp('127.0.0.1', run.ports.dns, [frameMessage(response)], 1, 2000);
      assert.deepEqual(tcp, { frames: [], closed: true }, 'no frame back; connection closed');
    });

    const formerrs: Array<[string, () => Buffer]> = [
      [
        'QDCOUNT=2',
        () => {
          const q = query();
          const two = Buffer.concat([q, q.subarray(12)]);
          two.writeUInt16BE(2, 4);
          return two;
        },
      ],
      ['a question cut inside type/class', () => query().subarray(0, query().length - 2)],
      ['a question cut inside the name', () => query().subarray(0, 12 + 5)],
    ];
    for (const [what, packet] of formerrs) {
      it(`answers FORMERR with the same ID to ${what}`, async () => {
        assert.ok(run);
        const reply = await sendRawUdp('127.0.0.1', run.ports.dns, packet(), 2000);
        assert.ok(reply, 'a reply');
        assert.deepEqual(header(reply), { id: ID, qr: true, rcode: FORMERR });
      });
    }

    it('answers FORMERR over TCP too and keeps the connection', async () => {
      assert.ok(run);
      const bad = query();
      bad.writeUInt16BE(2, 4);
      const good = Buffer.from(encodeQuery({ id: ID + 1, name: APP, type: 'A' }));
      const got = await sendRawTcp(
        '127.0.0.1',
        run.ports.dns,
        [frameMessage(bad), frameMessage(good)],
        2,
        2000,
      );
      assert.equal(got.frames.length, 2, 'FORMERR, then the answer to the next query on the same stream');
      assert.deepEqual(header(got.frames[0] as Buffer), { id: ID, qr: true, rcode: FORMERR });
      assert.deepEqual(header(got.frames[1] as Buffer), { id: ID + 1, qr: true, rcode: 0 });
    });

    it('still answers normal queries afterwards', async () => {
      assert.ok(run);
      assert.deepEqual(await run.addresses(APP), ADDRESSES);
      assert.deepEqual(answerData(await run.tcp(APP), 'A').sort(), ADDRESSES);
    });

    it('counts drops by reason and FORMERR answers in /metrics', async () => {
      assert.ok(run);
      const now = await run.metrics();
      const delta = (name: string, labels: Record<string, string>): number =>
        (metricSum(now, name, labels) ?? 0) - (metricSum(metricsBefore, name, labels) ?? 0);
      assert.equal(delta('opengslb_dns_dropped_total', { reason: 'short' }), 1, 'the 5-byte packet');
      assert.equal(delta('opengslb_dns_dropped_total', { reason: 'response' }), 2, 'QR=1 over UDP and TCP');
      assert.equal(delta('opengslb_dns_queries_total', { rcode: 'FORMERR' }), 4, 'three UDP, one TCP');
      assert.ok(
        (metricSum(now, 'opengslb_dns_queries_total', { qtype: 'OTHER', rcode: 'FORMERR' }) ?? 0) >= 4,
        'FORMERR counted under qtype OTHER (the question may be unreadable)',
      );
    });
  });
});
