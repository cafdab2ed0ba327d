import { isIPv4, isIPv6 } from 'node:net';

/** An IP network parsed from CIDR notation. */
export interface Cidr {
  readonly family: 4 | 6;
  /** Network address with the host bits cleared, as an unsigned 32-bit (IPv4) or 128-bit (IPv6) integer. */
  readonly network: bigint;
  /** Prefix length in bits: 0..32 for IPv4, 0..128 for IPv6. */
  readonly prefix: number;
}

/** Options for {@link createNetworkMatcher}. */
export interface NetworkMatcherOptions {
  /** Also admit loopback peers (127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104) whatever the list says. */
  readonly allowLoopback: boolean;
}

interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

const WIDTH = { 4: 32, 6: 128 } as const;
// ::ffff:0:0/96 (RFC 4291 §2.5.5.2): the upper 96 bits of an IPv4-mapped IPv6 address.
const MAPPED_HIGH = 0xffffn;

/**
 * Parses `address/prefix` (IPv4 or IPv6). Host bits set below the prefix are cleared, as Go's net.ParseCIDR
 * does, so `10.1.2.3/8` is 10.0.0.0/8. A bare address without a prefix is rejected rather than read as a
 * single host, so a forgotten `/16` does not silently shrink the network.
 * @throws Error naming the input and the violated rule, e.g. `invalid CIDR "10.0.0.0/33": prefix must be 0..32`.
 */
export function parseCidr(s: string): Cidr {
  const slash = s.indexOf('/');
  if (slash < 0) {
    throw new Error(`invalid CIDR "${s}": missing "/prefix" (a single host is /32 for IPv4, /128 for IPv6)`);
  }
  const addressText = s.slice(0, slash);
  const prefixText = s.slice(slash + 1);
  // Zone indexes (fe80::1%eth0) name a link on this host; they have no meaning in an allow list.
  const address = addressText.includes('%') ? undefined : parseIp(addressText);
  if (address === undefined) {
    throw new Error(`invalid CIDR "${s}": "${addressText}" is not an IPv4 or IPv6 address`);
  }
  const width = WIDTH[address.family];
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= width)) {
    throw new Error(`invalid CIDR "${s}": prefix must be 0..${width}`);
  }
  return { family: address.family, network: address.value & mask(prefix, width), prefix };
}

/**
 * Builds the access check for a listener's peers from a list of CIDRs.
 *
 * - An empty list means "allow all": no restriction is configured, so every peer (loopback or not) passes.
 * - IPv4 peers, including IPv4-mapped IPv6 peers such as `::ffff:10.1.2.3` (what node reports on a dual-stack
 *   `::` socket), are compared with the IPv4 networks and with IPv4-mapped IPv6 networks of /96 or longer.
 *   They never match a shorter IPv6 network such as `::/0`, so "all IPv6 clients" does not admit IPv4 ones.
 * - A zone index on the peer (`fe80::1%eth0`) is ignored; an unparsable peer address is refused.
 * @throws Error listing every invalid CIDR (see {@link parseCidr}).
 */
export function createNetworkMatcher(
  cidrs: readonly string[],
  opts: NetworkMatcherOptions,
): (remoteAddress: string) => boolean {
  const problems: string[] = [];
  const networks: Cidr[] = [];
  for (const text of cidrs) {
    try {
      networks.push(unmapCidr(parseCidr(text)));
    } catch (e: unknown) {
      problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  if (problems.length > 0) throw new Error(problems.join('; '));
  if (networks.length === 0) return () => true;
  const compiled = networks.map((n) => ({ ...n, mask: mask(n.prefix, WIDTH[n.family]) }));
  return (remoteAddress) => {
    const zone = remoteAddress.indexOf('%');
    const parsed = parseIp(zone < 0 ? remoteAddress : remoteAddress.slice(0, zone));
    if (parsed === undefined) return false;
    const peer = unmapAddress(parsed);
    if (opts.allowLoopback && isLoopback(peer)) return true;
    return compiled.some((n) => n.family === peer.family && (peer.value & n.mask) === n.network);
  };
}

/**
 * Renders a peer address for people: `::ffff:10.1.2.3` becomes `10.1.2.3`; anything else is returned unchanged.
 */
export function displayAddress(remoteAddress: string): string {
  const m = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(remoteAddress);
  return m?.[1] ?? remoteAddress;
}

function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (isIPv6(text) && !text.includes('%')) return { family: 6, value: ipv6Value(text) };
  return undefined;
}

/** Assumes `isIPv4(text)`: four decimal octets without leading zeros. */
function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
}

/** Assumes `isIPv6(text)` without a zone: hex groups, at most one `::`, optionally a dotted IPv4 tail. */
function ipv6Value(text: string): bigint {
  let groups = text;
  const lastColon = groups.lastIndexOf(':');
  const tail = groups.slice(lastColon + 1);
  if (tail.includes('.')) {
    // The dotted tail stands for the last two 16-bit groups (RFC 4291 §2.2, form 3).
    const v4 = ipv4Value(tail);
    groups = `${groups.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [headText = '', restText] = groups.split('::');
  const head = headText === '' ? [] : headText.split(':');
  const rest = restText === undefined || restText === '' ? [] : restText.split(':');
  const zeros: string[] = new Array<string>(8 - head.length - rest.length).fill('0');
  return [...head, ...zeros, ...rest].reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
}

function mask(prefix: number, width: number): bigint {
  if (prefix === 0) return 0n;
  return ((1n << BigInt(prefix)) - 1n) << BigInt(width - prefix);
}

function isMapped(a: IpAddress): boolean {
  return a.family === 6 && a.value >> 32n === MAPPED_HIGH;
}

function unmapAddress(a: IpAddress): IpAddress {
  return isMapped(a) ? { family: 4, value: a.value & 0xffffffffn } : a;
}

/** ::ffff:a.b.c.d/96+n is the IPv4 network a.b.c.d/n; shorter IPv6 networks stay IPv6 (see the matcher doc). */
function unmapCidr(c: Cidr): Cidr {
  if (c.prefix >= 96 && isMapped({ family: c.family, value: c.network })) {
    return { family: 4, network: c.network & 0xffffffffn, prefix: c.prefix - 96 };
  }
  return c;
}

function isLoopback(a: IpAddress): boolean {
  return a.family === 4 ? a.value >> 24n === 127n : a.value === 1n;
}
