import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { describe, it } from 'node:test';
import { bindSockets, formatHostPort, ListenError } from './listen.js';

function closeAll(b: { udp: dgram.Socket; tcp: net.Server }): Promise<unknown> {
  return Promise.all([
    new Promise<void>((r) => b.udp.close(() => r())),
    new Promise<void>((r) => b.tcp.close(() => r())),
  ]);
}

function occupyUdp(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

describe('bindSockets', () => {
  it('binds UDP and TCP on the same ephemeral port', async (t) => {
    const bound = await bindSockets('127.0.0.1', 0);
    t.after(() => closeAll(bound));
    const tcpPort = (bound.tcp.address() as net.AddressInfo).port;
    assert.deepEqual(bound.udp.address(), { address: '127.0.0.1', family: 'IPv4', port: tcpPort });
  });

  it('rejects a taken UDP port naming protocol, address and cause, leaving TCP unbound', async (t) => {
    const holder = await occupyUdp();
    t.after(() => new Promise<void>((r) => holder.close(() => r())));
    const port = holder.address().port;
    await assert.rejects(bindSockets('127.0.0.1', port), (e: unknown) => {
      assert.ok(e instanceof ListenError, String(e));
      assert.equal(
        e.message,
        `DNS: cannot listen on udp 127.0.0.1:${port}: address already in use (EADDRINUSE)`,
      );
      assert.deepEqual([e.protocol, e.errno, e.code], ['udp', 'EADDRINUSE', 'DNS_LISTEN']);
      return true;
    });
    // The TCP listener bound before UDP failed must be gone: the port is free again.
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((r) => probe.close(() => r()));
  });

  it('rejects an address not on this host', async () => {
    await assert.rejects(
      bindSockets('192.0.2.1', 0),
      /DNS: cannot listen on tcp 192\.0\.2\.1:0: .*\(EADDRNOTAVAIL\)/,
    );
  });
});

describe('formatHostPort', () => {
  it('brackets IPv6 literals', () => {
    assert.deepEqual(
      [formatHostPort('127.0.0.1', 53), formatHostPort('::', 53)],
      ['127.0.0.1:53', '[::]:53'],
    );
  });
});

describe('bindSockets on IPv6 loopback', () => {
  it('binds ::1 when the host has IPv6', async (t) => {
    let bound: Awaited<ReturnType<typeof bindSockets>>;
    try {
      bound = await bindSockets('::1', 0);
    } catch (e: unknown) {
      if (e instanceof ListenError && (e.errno === 'EADDRNOTAVAIL' || e.errno === 'EAFNOSUPPORT')) {
        t.skip(`no IPv6 loopback here: ${e.message}`);
        return;
      }
      throw e;
    }
    t.after(() => closeAll(bound));
    assert.deepEqual(bound.udp.address(), {
      address: '::1',
      family: 'IPv6',
      port: (bound.tcp.address() as net.AddressInfo).port,
    });
  });
});
