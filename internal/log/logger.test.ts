import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { LogFormat, LogLevel } from './logger.js';
import { createLogger, parseLogFormat, parseLogLevel } from './logger.js';

function capture(): { stream: Writable; lines: () => string[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== ''),
  };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe('createLogger json', () => {
  it('writes level labels and ISO times, and filters below the level', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'json', destination: out.stream });
    log.debug({ n: 1 }, 'hidden');
    log.child({ component: 'api' }).warn({ client: '10.9.9.9' }, 'refused');
    log.error({ err: new Error('boom') }, 'failed');
    const records = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(records.length, 2, `got ${JSON.stringify(records)}`);
    const [warn, error] = records;
    assert.equal(warn?.['level'], 'warn');
    assert.match(String(warn?.['time']), ISO);
    assert.equal(warn?.['component'], 'api');
    assert.equal(warn?.['client'], '10.9.9.9');
    assert.equal(warn?.['msg'], 'refused');
    assert.equal(typeof warn?.['pid'], 'number');
    assert.equal(error?.['level'], 'error');
    assert.equal((error?.['err'] as { message?: unknown } | undefined)?.message, 'boom');
  });
});

describe('createLogger text', () => {
  const split = (line: string) => {
    const space = line.indexOf(' ');
    return { time: line.slice(0, space), rest: line.slice(space + 1) };
  };

  it('writes one readable line per record without pid or hostname', () => {
    const out = capture();
    const log = createLogger({ level: 'info', format: 'text', destination: out.stream });
    log.child({ component: 'api' }).info({ address: '::', port: 8080, note: 'two words' }, 'API listening');
    log.error({ err: new Error('boom') }, 'failed');
    const lines = out.lines();
    assert.equal(lines.length, 2, `got ${JSON.stringify(lines)}`);
    const first = split(lines[0] ?? '');
    assert.match(first.time, ISO);
    assert.equal(first.rest, 'INFO  [api] API listening address=:: port=8080 note="two words"');
    assert.equal(split(lines[1] ?? '').rest, 'ERROR failed err=boom');
  });

  it('adds the error stack at debug level', () => {
    const out = capture();
    const log = createLogger({ level: 'debug', format: 'text', destination: out.stream });
    log.error({ err: new Error('boom') }, 'failed');
    const lines = out.lines();
    assert.equal(split(lines[0] ?? '').rest, 'ERROR failed err=boom');
    assert.equal(lines[1], '    Error: boom');
    assert.match(lines[2] ?? '', /^ {8}at /);
  });
});

describe('parseLogLevel / parseLogFormat', () => {
  const levels: [string, LogLevel][] = [
    ['debug', 'debug'],
    ['INFO', 'info'],
    ['Warn', 'warn'],
    ['error', 'error'],
  ];
  for (const [input, want] of levels) {
    it(`level ${input}`, () => assert.equal(parseLogLevel(input), want));
  }
  it('rejects an unknown level', () => {
    assert.throws(() => parseLogLevel('verbose'), {
      message: 'invalid log level "verbose": must be one of debug, info, warn, error',
    });
  });
  const formats: [string, LogFormat][] = [
    ['json', 'json'],
    ['TEXT', 'text'],
  ];
  for (const [input, want] of formats) {
    it(`format ${input}`, () => assert.equal(parseLogFormat(input), want));
  }
  it('rejects an unknown format', () => {
    assert.throws(() => parseLogFormat('xml'), {
      message: 'invalid log format "xml": must be one of json, text',
    });
  });
});
