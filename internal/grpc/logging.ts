/**
 * grpc-js logs through its own console logger (e.g. an `E ... No address added` line on a failed bind). Route it
 * into the process's pino logger so every line an operator sees has one format, at the severity grpc-js meant.
 */
import { logVerbosity, setLogger, setLogVerbosity } from '@grpc/grpc-js';
import type { Logger } from 'pino';

export function routeGrpcLogs(log: Logger): void {
  const text = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : String(a))).join(' ');
  setLogger({
    error: (...args: unknown[]) => log.warn({ grpc_js: text(args) }, 'grpc-js'),
    info: (...args: unknown[]) => log.debug({ grpc_js: text(args) }, 'grpc-js'),
    debug: (...args: unknown[]) => log.debug({ grpc_js: text(args) }, 'grpc-js'),
  });
  setLogVerbosity(logVerbosity.ERROR);
}
