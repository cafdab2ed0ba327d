import type { Server } from 'node:net';

const REASONS = new Map([
  ['EADDRINUSE', 'address already in use'],
  ['EADDRNOTAVAIL', 'address not available on this host'],
  ['EACCES', 'permission denied'],
  ['EAFNOSUPPORT', 'address family not supported'],
  ['ENOTFOUND', 'host name not found'],
]);

/** `host:port`, bracketing IPv6 literals (`[::1]:8080`); an empty host renders as `:8080`, as in the config. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Starts `server` listening on host:port and resolves once it is bound. An empty host binds all interfaces:
 * node tries `::` (dual-stack) and falls back to `0.0.0.0` when the host has no IPv6.
 * `component` names the listener in the message (`API`, `metrics`).
 * @throws Error like `API: cannot listen on 127.0.0.1:8080: address already in use (EADDRINUSE)`, with the
 * system error as `cause`.
 */
export function listenOrFail(server: Server, host: string, port: number, component = 'API'): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (e: unknown): void => {
      server.off('listening', onListening);
      server.off('error', fail);
      reject(listenError(component, host, port, e));
    };
    const onListening = (): void => {
      server.off('error', fail);
      resolve();
    };
    server.once('listening', onListening);
    server.once('error', fail);
    try {
      server.listen(host === '' ? { port } : { host, port });
    } catch (e: unknown) {
      // Invalid arguments (a port out of range) throw synchronously instead of emitting 'error'.
      fail(e);
    }
  });
}

function listenError(component: string, host: string, port: number, e: unknown): Error {
  const code = typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : undefined;
  const known = code === undefined ? undefined : REASONS.get(code);
  const reason = known !== undefined ? `${known} (${code})` : e instanceof Error ? e.message : String(e);
  return new Error(`${component}: cannot listen on ${formatHostPort(host, port)}: ${reason}`, { cause: e });
}
