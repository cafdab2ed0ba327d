/**
 * A dedicated prom-client registry per process (never the global default registry, which libraries may
 * pollute), with Node's default process metrics, and the HTTP server that exposes it at `/metrics`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { listenOrFail } from '../api/listen.js';

/** A registry with process and Node.js runtime metrics already registered. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

export interface MetricsServer {
  start(): Promise<void>;
  close(): Promise<void>;
  address(): AddressInfo;
}

/** Serves `GET /metrics` (Prometheus text format); every other path is 404. */
export function createMetricsServer(opts: { host: string; port: number; registry: Registry }): MetricsServer {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('not found; metrics are at /metrics\n');
      return;
    }
    opts.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text);
      },
      (e: unknown) => {
        res
          .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`metrics collection failed: ${String(e)}\n`);
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return {
    start: () => listenOrFail(server, opts.host, opts.port, 'metrics'),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    address: () => server.address() as AddressInfo,
  };
}
