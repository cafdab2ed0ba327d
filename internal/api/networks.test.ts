import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createNetworkMatcher, displayAddress, parseCidr } from './networks.js';

describe('parseCidr', () => {
  const valid = [
    { name: 'IPv4 /8', input: '10.0.0.0/8', family: 4, network: 0x0a000000n, prefix: 8 },
    { name: 'IPv4 host bits cleared', input: '10.1.2.3/16', family: 4, network: 0x0a010000n, prefix: 16 },
    { name: 'IPv4 /32', input: '192.0.2.7/32', family: 4, network: 0xc0000207n, prefix: 32 },
    { name: 'IPv4 /0', input: '203.0.113.9/0', family: 4, network: 0n, prefix: 0 },
    { name: 'IPv6 /32', input: '2001:db8::/32', family: 6, network: 0x20010db8n << 96n, prefix: 32 },
    { name: 'IPv6 /128 loopback', input: '::1/128', family: 6, network: 1n, prefix: 128 },
    { name: 'IPv6 /0', input: '::/0', family: 6, network: 0n, prefix: 0 },
    {
      name: 'IPv6 upper case',
      input: '2001:DB8:0:0:0:0:0:1/127',
      family: 6,
      network: 0x20010db8n << 96n,
      prefix: 127,
    },
    {
      name: 'IPv6 dotted tail',
      input: '::ffff:10.0.0.0/104',
      family: 6,
      network: (0xffffn << 32n) | 0x0a000000n,
      prefix: 104,
    },
  ] as const;
  for (const c of valid) {
    it(c.name, () => {
      assert.deepEqual(parseCidr(c.input), { family: c.family, network: c.network, prefix: c.prefix });
    });
  }

  const invalid = [
    {
      name: 'IPv4 prefix too long',
      input: '10.0.0.0/33',
      message: 'invalid CIDR "10.0.0.0/33": prefix must be 0..32',
    },
    {
      name: 'IPv6 prefix too long',
      input: '::/129',
      message: 'invalid CIDR "::/129": prefix must be 0..128',
    },
    {
      name: 'negative prefix',
      input: '10.0.0.0/-1',
      message: 'invalid CIDR "10.0.0.0/-1": prefix must be 0..32',
    },
    { name: 'empty prefix', input: '10.0.0.0/', message: 'invalid CIDR "10.0.0.0/": prefix must be 0..32' },
    {
      name: 'hex prefix',
      input: '10.0.0.0/0x8',
      message: 'invalid CIDR "10.0.0.0/0x8": prefix must be 0..32',
    },
    {
      name: 'missing prefix',
      input: '10.0.0.1',
      message: 'invalid CIDR "10.0.0.1": missing "/prefix" (a single host is /32 for IPv4, /128 for IPv6)',
    },
    {
      name: 'octet out of range',
      input: '10.0.0.256/8',
      message: 'invalid CIDR "10.0.0.256/8": "10.0.0.256" is not an IPv4 or IPv6 address',
    },
    {
      name: 'hostname',
      input: 'localhost/8',
      message: 'invalid CIDR "localhost/8": "localhost" is not an IPv4 or IPv6 address',
    },
    {
      name: 'zone index',
      input: 'fe80::%eth0/64',
      message: 'invalid CIDR "fe80::%eth0/64": "fe80::%eth0" is not an IPv4 or IPv6 address',
    },
    {
      name: 'surrounding space',
      input: ' 10.0.0.0/8',
      message: 'invalid CIDR " 10.0.0.0/8": " 10.0.0.0" is not an IPv4 or IPv6 address',
    },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      assert.throws(() => parseCidr(c.input), { message: c.message });
    });
  }
});

describe('createNetworkMatcher', () => {
  const cases = [
    { name: 'v4 inside', cidrs: ['10.0.0.0/8'], loopback: false, peer: '10.9.9.9', want: true },
    { name: 'v4 outside', cidrs: ['10.0.0.0/8'], loopback: false, peer: '11.0.0.1', want: false },
    { name: 'v4 /32 exact', cidrs: ['192.0.2.7/32'], loopback: false, peer: '192.0.2.7', want: true },
    { name: 'v4 /32 neighbour', cidrs: ['192.0.2.7/32'], loopback: false, peer: '192.0.2.8', want: false },
    { name: 'v4 /0 admits any v4', cidrs: ['0.0.0.0/0'], loopback: false, peer: '198.51.100.1', want: true },
    { name: 'v4 /0 refuses v6', cidrs: ['0.0.0.0/0'], loopback: false, peer: '2001:db8::1', want: false },
    { name: 'v6 inside', cidrs: ['2001:db8::/32'], loopback: false, peer: '2001:db8:ffff::1', want: true },
    { name: 'v6 outside', cidrs: ['2001:db8::/32'], loopback: false, peer: '2001:db9::1', want: false },
    { name: 'v6 /0 admits v6', cidrs: ['::/0'], loopback: false, peer: '2001:db8::1', want: true },
    {
      name: 'v6 /0 refuses mapped v4',
      cidrs: ['::/0'],
      loopback: false,
      peer: '::ffff:10.1.2.3',
      want: false,
    },
    { name: 'v6 zone ignored', cidrs: ['fe80::/10'], loopback: false, peer: 'fe80::1%eth0', want: true },
    {
      name: 'mapped peer, v4 net',
      cidrs: ['10.0.0.0/8'],
      loopback: false,
      peer: '::ffff:10.1.2.3',
      want: true,
    },
    {
      name: 'mapped peer outside',
      cidrs: ['10.0.0.0/8'],
      loopback: false,
      peer: '::ffff:11.1.2.3',
      want: false,
    },
    {
      name: 'mapped peer, hex form',
      cidrs: ['10.0.0.0/8'],
      loopback: false,
      peer: '::ffff:a01:203',
      want: true,
    },
    {
      name: 'mapped net, v4 peer',
      cidrs: ['::ffff:10.0.0.0/104'],
      loopback: false,
      peer: '10.1.2.3',
      want: true,
    },
    {
      name: 'mapped net, mapped peer',
      cidrs: ['::ffff:10.0.0.0/104'],
      loopback: false,
      peer: '::ffff:10.1.2.3',
      want: true,
    },
    {
      name: 'mapped net outside',
      cidrs: ['::ffff:10.0.0.0/104'],
      loopback: false,
      peer: '11.1.2.3',
      want: false,
    },
    { name: 'loopback v4 on', cidrs: ['10.0.0.0/8'], loopback: true, peer: '127.0.0.1', want: true },
    { name: 'loopback v4 /8 on', cidrs: ['10.0.0.0/8'], loopback: true, peer: '127.1.2.3', want: true },
    { name: 'loopback v6 on', cidrs: ['10.0.0.0/8'], loopback: true, peer: '::1', want: true },
    {
      name: 'loopback mapped on',
      cidrs: ['10.0.0.0/8'],
      loopback: true,
      peer: '::ffff:127.0.0.1',
      want: true,
    },
    { name: 'loopback v4 off', cidrs: ['10.0.0.0/8'], loopback: false, peer: '127.0.0.1', want: false },
    { name: 'loopback v6 off', cidrs: ['10.0.0.0/8'], loopback: false, peer: '::1', want: false },
    {
      name: 'loopback mapped off',
      cidrs: ['10.0.0.0/8'],
      loopback: false,
      peer: '::ffff:127.0.0.1',
      want: false,
    },
    { name: 'loopback listed', cidrs: ['127.0.0.0/8', '::1/128'], loopback: false, peer: '::1', want: true },
    { name: 'empty list admits all', cidrs: [], loopback: false, peer: '203.0.113.5', want: true },
    { name: 'empty list admits v6', cidrs: [], loopback: false, peer: '2001:db8::5', want: true },
    {
      name: 'second network',
      cidrs: ['10.0.0.0/8', '192.168.0.0/16'],
      loopback: false,
      peer: '192.168.4.4',
      want: true,
    },
    { name: 'garbage peer', cidrs: ['0.0.0.0/0'], loopback: true, peer: 'not-an-ip', want: false },
    { name: 'empty peer', cidrs: ['0.0.0.0/0', '::/0'], loopback: true, peer: '', want: false },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const allow = createNetworkMatcher(c.cidrs, { allowLoopback: c.loopback });
      assert.equal(allow(c.peer), c.want, `peer ${c.peer} against [${c.cidrs.join(', ')}]`);
    });
  }

  it('reports every invalid CIDR at once', () => {
    assert.throws(
      () => createNetworkMatcher(['10.0.0.0/8', '10.0.0.0/33', 'x/1'], { allowLoopback: false }),
      {
        message:
          'invalid CIDR "10.0.0.0/33": prefix must be 0..32; invalid CIDR "x/1": "x" is not an IPv4 or IPv6 address',
      },
    );
  });
});

describe('displayAddress', () => {
  const cases = [
    { input: '::ffff:10.9.9.9', want: '10.9.9.9' },
    { input: '10.9.9.9', want: '10.9.9.9' },
    { input: '2001:db8::1', want: '2001:db8::1' },
    { input: '::ffff:a09:909', want: '::ffff:a09:909' },
  ];
  for (const c of cases) {
    it(c.input, () => assert.equal(displayAddress(c.input), c.want));
  }
});
