/**
 * Real HTTP backends for integration tests: one node:http server per loopback address, all on one port,
 * because an A record carries no port (a removed backend is only visible by its address).
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { freePort } from './ports.js';

export interface TestBackend {
  address: string;
  port: number;
  /** Status code `/health` returns from now on. */
  setStatus(code: number): void;
  /** Stops listening and drops connections (the backend is gone). */
  stop(): Promise<void>;
  /** Listens again on the same address and port. */
  restart(): Promise<void>;
  /** Health requests served so far. */
  hits(): number;
}

function listen(server: Server, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Starts one backend per address, all on the same free port. */
export async function startBackends(addresses: string[]): Promise<TestBackend[]> {
  const port = await freePort(addresses[0]);
  return Promise.all(addresses.map((address) => startBackend(address, port)));
}

async function startBackend(address: string, port: number): Promise<TestBackend> {
  let status = 200;
  let hits = 0;
  let server: Server;
  const sockets = new Set<Socket>();
  const make = (): Server => {
    const s = createServer((req, res) => {
      if (req.url === '/health') hits++;
      res.writeHead(req.url === '/health' ? status : 200, {
        'content-type': 'text/plain',
        connection: 'close',
      });
      res.end(`${address}\n`);
    });
    s.on('connection', (sock) => {
      sockets.add(sock);
      sock.on('close', () => sockets.delete(sock));
    });
    return s;
  };
  server = make();
  await listen(server, port, address);
  return {
    address,
    port,
    setStatus: (code) => {
      status = code;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
    restart: async () => {
      server = make();
      await listen(server, port, address);
    },
    hits: () => hits,
  };
}
