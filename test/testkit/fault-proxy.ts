/**
 * A fault-injecting TCP proxy on loopback, put in front of a node's Raft port (the node binds R and advertises
 * the proxy's address, so every peer dials the proxy). Faults: `cut` (a network cut: existing connections stall
 * and drop whatever is sent, new ones are accepted and stall -- or, in `reset` mode, everything is reset), `heal`,
 * and an optional per-chunk `delay`.
 *
 * Why connection owners: a proxy per destination only sees who dials it, and a node's Raft replies are separate
 * calls it makes itself, so cutting A's inbound proxy alone is a one-way partition (A still reaches B and C). To
 * isolate A both ways, B's and C's proxies must also cut the connections A opened. Every node dials from
 * 127.0.0.1 with an ephemeral port, so the proxy asks the kernel which process owns the other end of an accepted
 * connection (`socketOwner`: /proc/net/tcp for the socket inode, /proc/<pid>/fd for the process) and the test
 * names processes by node id. This needs Linux and the same user as the nodes, but no root and no
 * addresses outside 127.0.0.0/8 (network namespaces would need both).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';

/** How a cut treats connections: `blackhole` stalls them (data dropped, like lost packets); `reset` sends RST. */
export type CutMode = 'blackhole' | 'reset';

export interface CutOptions {
  /** Default `blackhole`. */
  mode?: CutMode;
  /** Cut only connections opened by these owners (see `FaultProxyOptions.identify`); default: every connection. */
  from?: readonly string[];
}

export interface FaultProxyOptions {
  /** host:port to forward to. */
  target: string;
  /** Listening host (default 127.0.0.1); the port is chosen by the kernel. */
  host?: string;
  /**
   * Names the owner of an accepted connection from its remote port (e.g. `socketOwner` mapped to a node id);
   * undefined when unknown. Called once per connection, before any byte is forwarded.
   */
  identify?: (remotePort: number, localPort: number) => Promise<string | undefined>;
}

/** Counters, for assertions that a fault was actually exercised. */
export interface FaultProxyStats {
  accepted: number;
  /** Connections currently held stalled by a cut. */
  stalled: number;
  /** Connections reset or dropped by cuts (and by heal, for stalled ones). */
  cutConnections: number;
  /** Bytes forwarded in both directions. */
  forwardedBytes: number;
  /** Bytes dropped while stalled. */
  droppedBytes: number;
}

export interface FaultProxy {
  /** 127.0.0.1:port the proxy listens on (advertise this). */
  address: string;
  port: number;
  cut(opts?: CutOptions): void;
  /** Ends every cut: stalled connections are destroyed (their streams lost bytes), new ones are forwarded. */
  heal(): void;
  /** Delay every forwarded chunk by `ms` (0 = none), preserving order per direction. */
  delay(ms: number): void;
  stats(): FaultProxyStats;
  /** Closes the listener and destroys every connection. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  owner: string | undefined;
  stalled: boolean;
}

/** Starts a proxy listening on `host`:0 forwarding to `opts.target`. */
export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const host = opts.host ?? '127.0.0.1';
  const [targetHost, targetPortText] = splitHostPort(opts.target);
  const targetPort = Number(targetPortText);
  const pairs = new Set<Pair>();
  const stats: FaultProxyStats = {
    accepted: 0,
    stalled: 0,
    cutConnections: 0,
    forwardedBytes: 0,
    droppedBytes: 0,
  };
  let cutAll: CutMode | undefined;
  const cutFrom = new Map<string, CutMode>();
  let delayMs = 0;

  const cutOf = (p: Pair): CutMode | undefined =>
    cutAll ?? (p.owner === undefined ? undefined : cutFrom.get(p.owner));

  const destroy = (p: Pair, reset: boolean): void => {
    if (p.stalled) stats.stalled--;
    p.stalled = false;
    pairs.delete(p);
    if (reset) {
      p.client.resetAndDestroy();
      p.upstream?.resetAndDestroy();
    } else {
      p.client.destroy();
      p.upstream?.destroy();
    }
  };

  /** Applies the current cuts to one connection; returns false once it is gone. */
  const enforce = (p: Pair): boolean => {
    const mode = cutOf(p);
    if (mode === 'reset') {
      stats.cutConnections++;
      destroy(p, true);
      return false;
    }
    if (mode === 'blackhole' && !p.stalled) {
      p.stalled = true;
      stats.stalled++;
      stats.cutConnections++;
    }
    return true;
  };

  // Each direction forwards in order; with a delay, chunks are queued behind one another on a timer.
  const forward = (p: Pair, from: Socket, to: () => Socket | undefined): void => {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (p.stalled) {
        stats.droppedBytes += chunk.length;
        return;
      }
      const send = (): void => {
        const dst = to();
        if (p.stalled || dst === undefined || dst.destroyed) {
          stats.droppedBytes += chunk.length;
          return;
        }
        stats.forwardedBytes += chunk.length;
        dst.write(chunk);
      };
      if (delayMs === 0) send();
      else {
        const ms = delayMs;
        chain = chain.then(() => new Promise<void>((r) => setTimeout(r, ms))).then(send);
      }
    });
  };

  const onConnection = async (client: Socket): Promise<void> => {
    stats.accepted++;
    const p: Pair = { client, upstream: undefined, owner: undefined, stalled: false };
    pairs.add(p);
    client.pause();
    // Errors end the pair; a reset peer is what a cut is meant to produce, so there is nothing to report.
    client.on('error', () => destroy(p, false));
    client.on('close', () => destroy(p, false));
    if (opts.identify !== undefined && client.remotePort !== undefined && client.localPort !== undefined) {
      try {
        p.owner = await opts.identify(client.remotePort, client.localPort);
      } catch (e: unknown) {
        // An unknown owner is only cut by a cut of everything; say why it is unknown.
        process.stderr.write(`fault-proxy: cannot identify ${client.remotePort}: ${String(e)}\n`);
      }
    }
    if (!pairs.has(p) || !enforce(p)) return;
    forward(p, client, () => p.upstream);
    client.resume();
    // A pair stalled from the start never gets an upstream: heal destroys it and the client dials again.
    if (p.stalled) return;
    const upstream = connect(targetPort, targetHost);
    p.upstream = upstream;
    upstream.on('error', () => destroy(p, false));
    upstream.on('close', () => destroy(p, false));
    forward(p, upstream, () => p.client);
  };

  const server: Server = createServer((s) => {
    void onConnection(s);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;

  return {
    address: `${host}:${port}`,
    port,
    cut(o = {}) {
      const mode = o.mode ?? 'blackhole';
      if (o.from === undefined) cutAll = mode;
      else for (const f of o.from) cutFrom.set(f, mode);
      for (const p of [...pairs]) enforce(p);
    },
    heal() {
      cutAll = undefined;
      cutFrom.clear();
      for (const p of [...pairs]) if (p.stalled) destroy(p, false);
    },
    delay(ms) {
      delayMs = ms;
    },
    stats: () => ({ ...stats }),
    async close() {
      for (const p of [...pairs]) destroy(p, false);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function splitHostPort(hp: string): [string, string] {
  const i = hp.lastIndexOf(':');
  if (i <= 0) throw new Error(`fault-proxy: target ${hp} is not host:port`);
  return [hp.slice(0, i).replace(/^\[|\]$/g, ''), hp.slice(i + 1)];
}

/**
 * The pid among `pids` whose process holds the client end of a loopback TCP connection from `clientPort` to
 * `serverPort` (both on 127.0.0.1); undefined when none does (or the connection is already gone). Linux only.
 */
export async function socketOwner(
  clientPort: number,
  serverPort: number,
  pids: readonly number[],
): Promise<number | undefined> {
  const inode = await socketInode(clientPort, serverPort);
  if (inode === undefined) return undefined;
  const wanted = `socket:[${inode}]`;
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = await readdir(`/proc/${pid}/fd`);
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue; // the process exited meanwhile
      throw e;
    }
    for (const fd of fds) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => ''); // fd closed meanwhile
      if (link === wanted) return pid;
    }
  }
  return undefined;
}

/** Inode of the socket whose local port is `localPort` and remote port `remotePort`, from /proc/net/tcp{,6}. */
async function socketInode(localPort: number, remotePort: number): Promise<string | undefined> {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(file, 'utf8');
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      if (f[1]?.endsWith(`:${hex(localPort)}`) && f[2]?.endsWith(`:${hex(remotePort)}`)) return f[9];
    }
  }
  return undefined;
}
