import type { Logger, LoggerOptions } from 'pino';
import { pino } from 'pino';
import { createTextDestination } from './text-format.js';

/** Levels an operator may configure (`logging.level`, `--log-level`). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Output formats (`logging.format`). */
export type LogFormat = 'json' | 'text';

/** Options for {@link createLogger}. */
export interface CreateLoggerOptions {
  level: LogLevel;
  /** `json`: one pino JSON object per line, for log pipelines. `text`: one readable line per record. */
  format: LogFormat;
  /** Where lines go; default process.stdout (synchronous on Linux for files, pipes and terminals). */
  destination?: NodeJS.WritableStream;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const FORMATS: readonly LogFormat[] = ['json', 'text'];

/**
 * Creates the root logger; call it once, in cmd/, and hand components `log.child({ component })`.
 * Both formats carry an ISO-8601 UTC `time` and the level as a label (`"level":"info"`), not pino's number,
 * so pipelines need no level table. JSON keeps pino's `pid` and `hostname`; text drops them and prints the
 * error stack only when the level is debug.
 */
export function createLogger(opts: CreateLoggerOptions): Logger {
  const out = opts.destination ?? process.stdout;
  const options: LoggerOptions = {
    level: opts.level,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (opts.format === 'json') return pino(options, out);
  return pino({ ...options, base: null }, createTextDestination(out, { showStack: opts.level === 'debug' }));
}

/**
 * Parses a configured level, ignoring case.
 * @throws Error like `invalid log level "verbose": must be one of debug, info, warn, error`.
 */
export function parseLogLevel(s: string): LogLevel {
  const found = LEVELS.find((l) => l === s.toLowerCase());
  if (found === undefined) throw new Error(`invalid log level "${s}": must be one of ${LEVELS.join(', ')}`);
  return found;
}

/**
 * Parses a configured format, ignoring case.
 * @throws Error like `invalid log format "xml": must be one of json, text`.
 */
export function parseLogFormat(s: string): LogFormat {
  const found = FORMATS.find((f) => f === s.toLowerCase());
  if (found === undefined) throw new Error(`invalid log format "${s}": must be one of ${FORMATS.join(', ')}`);
  return found;
}
