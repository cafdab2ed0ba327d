/** Free loopback ports for integration tests (bind port 0, read it, release it). */
import { createSocket } from 'node:dgram';
import { createServer, isIPv6 } from 'node:net';

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
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await freeTcp(host);
    if (await udpFree(host, port)) return port;
  }
  throw new Error(`no port free for both TCP and UDP on ${host} after 20 attempts`);
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
  const srv = createServer();
  const tcp = await new Promise<boolean>((resolve) => {
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => resolve(true));
  });
  if (!tcp) return false;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return udpFree(host, port);
}
