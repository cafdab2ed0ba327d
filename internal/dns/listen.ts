import dgram from 'node:dgram';
import net from 'node:net';

/**
 * Binding a DNS socket failed. The message names protocol, address and cause, e.g.
 * `DNS: cannot listen on udp 127.0.0.1:1053: address already in use (EADDRINUSE)`.
 */
export class ListenError extends Error {
  /** Stable code for callers that branch on it. */
  readonly code = 'DNS_LISTEN';
  /** The OS error code of the cause, e.g. 'EADDRINUSE', when there is one. */
  readonly errno: string | undefined;
  constructor(
    readonly protocol: 'udp' | 'tcp',
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    const errno = errnoOf(cause);
    super(`DNS: cannot listen on ${protocol} ${formatHostPort(host, port)}: ${describeCause(cause, errno)}`, {
      cause,
    });
    this.name = 'ListenError';
    this.errno = errno;
  }
}

/** A UDP socket and TCP server bound to the same address and port. */
export interface BoundSockets {
  udp: dgram.Socket;
  tcp: net.Server;
}

/** Codes meaning the host has no usable IPv6, so '::' cannot be bound at all. */
const IPV6_UNAVAILABLE = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL', 'EPROTONOSUPPORT']);
/** Tries for an ephemeral port free on both protocols; another process may take the UDP port in between. */
const EPHEMERAL_ATTEMPTS = 5;

/**
 * Binds UDP and TCP on `host`:`port`. Host '' means all interfaces: '::' dual-stack, else '0.0.0.0' when the
 * host has no IPv6. Port 0 binds TCP on an ephemeral port first, then UDP on the same number, retrying when that
 * UDP port is taken. On failure nothing stays bound.
 * @throws ListenError for the socket that failed.
 */
export async function bindSockets(host: string, port: number): Promise<BoundSockets> {
  if (host !== '') return bindPair(host, port);
  try {
    return await bindPair('::', port);
  } catch (e: unknown) {
    if (e instanceof ListenError && e.errno !== undefined && IPV6_UNAVAILABLE.has(e.errno)) {
      return bindPair('0.0.0.0', port);
    }
    throw e;
  }
}

async function bindPair(host: string, port: number): Promise<BoundSockets> {
  const attempts = port === 0 ? EPHEMERAL_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const tcp = await listenTcp(host, port);
    const tcpPort = (tcp.address() as net.AddressInfo).port;
    try {
      return { tcp, udp: await bindUdp(host, tcpPort) };
    } catch (e: unknown) {
      await closeTcp(tcp);
      const retry = e instanceof ListenError && e.errno === 'EADDRINUSE' && attempt < attempts;
      if (!retry) throw e;
    }
  }
}

function listenTcp(host: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    const onError = (e: Error): void => reject(new ListenError('tcp', host, port, e));
    server.once('error', onError);
    server.listen({ host, port, ipv6Only: false, exclusive: true }, () => {
      server.off('error', onError);
      resolve(server);
    });
  });
}

function bindUdp(host: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', ipv6Only: false });
    const onError = (e: Error): void => {
      socket.close();
      reject(new ListenError('udp', host, port, e));
    };
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Closes a TCP server that has no connections yet. */
function closeTcp(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
  });
}

/** `host:port`, with IPv6 literals bracketed. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this host',
  EAFNOSUPPORT: 'address family not supported',
  ENOTFOUND: 'host name not found',
};

function errnoOf(cause: unknown): string | undefined {
  if (typeof cause !== 'object' || cause === null || !('code' in cause)) return undefined;
  return typeof cause.code === 'string' ? cause.code : undefined;
}

function describeCause(cause: unknown, errno: string | undefined): string {
  const text = (errno && DESCRIPTIONS[errno]) ?? (cause instanceof Error ? cause.message : String(cause));
  return errno ? `${text} (${errno})` : text;
}
