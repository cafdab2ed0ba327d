export type { CreateLoggerOptions, LogFormat, LogLevel } from './logger.js';
export { createLogger, parseLogFormat, parseLogLevel } from './logger.js';
export type { LineSink, TextFormatOptions } from './text-format.js';
export { createTextDestination, formatTextLine } from './text-format.js';
