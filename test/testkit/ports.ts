/**
 * Free loopback ports for integration tests. Ports are drawn below the kernel's ephemeral range when it can be
 * read (Linux): a port the kernel hands out for port 0 can be taken again by any outgoing connection (Raft
 * peers, proxies, HTTP clients) between our check and the server's bind, which showed up as EADDRINUSE in
 * cluster tests. Elsewhere: bind port 0, read it, release it.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, isIPv6 } from 'node:net';

/** [low, high] below the ephemeral range, or undefined when it cannot be read or leaves no room. */
function belowEphemeral(): [number, number] | undefined {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && Number.isInteger(low) && low > 12_000) return [10_000, low - 1];
  } catch {
    // Not Linux (or no procfs): fall back to port 0.
  }
  return undefined;
}
const RANGE = belowEphemeral();

async function tcpFree(host: string, port: number): Promise<boolean> {
  const srv = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => srv.close(() => resolve()));
  return ok;
}

async function freeTcp(host: string): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, host, () => resolve());
  });
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function udpFree(host: string, port: number): Promise<boolean> {
  const sock = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise<boolean>((resolve) => {
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/** A port free for both TCP and UDP on `host` (DNS needs both). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const attempts = RANGE === undefined ? 20 : 200;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (RANGE !== undefined) {
      const port = RANGE[0] + Math.floor(Math.random() * (RANGE[1] - RANGE[0] + 1));
      if ((await tcpFree(host, port)) && (await udpFree(host, port))) return port;
      continue;
    }
    const port = await freeTcp(host);
    if (await udpFree(host, port)) return port;
  }
  throw new Error(`no port free for both TCP and UDP on ${host} after ${attempts} attempts`);
}

/** `count` distinct ports, each free for TCP and UDP on `host` when chosen. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const out = new Set<number>();
  // Released ports can come back from the kernel; draw until the set holds `count` distinct ones.
  for (let draws = 0; out.size < count; draws++) {
    if (draws >= count * 10) throw new Error(`no ${count} distinct free ports on ${host} in ${draws} draws`);
    out.add(await freePort(host));
  }
  return [...out];
}

/** True when `port` can be bound on `host` for both TCP and UDP right now (nothing listens there). */
export async function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return (await tcpFree(host, port)) && udpFree(host, port);
}
