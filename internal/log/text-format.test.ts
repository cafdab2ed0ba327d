import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTextDestination, formatTextLine } from './text-format.js';

const T = '2026-01-02T03:04:05.678Z';

describe('formatTextLine', () => {
  const cases = [
    {
      name: 'component and plain fields',
      record: {
        level: 'info',
        time: T,
        component: 'api',
        address: '127.0.0.1',
        port: 8080,
        msg: 'API listening',
      },
      showStack: false,
      want: `${T} INFO  [api] API listening address=127.0.0.1 port=8080`,
    },
    {
      name: 'no component, no fields',
      record: { level: 'error', time: T, msg: 'stopped' },
      showStack: false,
      want: `${T} ERROR stopped`,
    },
    {
      name: 'strings needing quotes',
      record: {
        level: 'warn',
        time: T,
        msg: 'odd values',
        spaced: 'quoted value',
        quote: 'say "hi"',
        eq: 'a=b',
        empty: '',
        newline: 'a\nb',
        ipv6: '[2001:db8::1]:80',
      },
      showStack: false,
      want:
        `${T} WARN  odd values spaced="quoted value" quote="say \\"hi\\"" eq="a=b" empty="" newline="a\\nb"` +
        ' ipv6=[2001:db8::1]:80',
    },
    {
      name: 'nested objects, arrays and scalars',
      record: {
        level: 'debug',
        time: T,
        msg: 'state',
        peer: { id: 'n2', addr: { host: '10.0.0.2', port: 7000 } },
        tags: ['a', 'b c'],
        empty: {},
        ok: true,
        none: null,
      },
      showStack: false,
      want:
        `${T} DEBUG state peer.id=n2 peer.addr.host=10.0.0.2 peer.addr.port=7000 tags=["a","b c"] empty={}` +
        ' ok=true none=null',
    },
    {
      name: 'error without stack',
      record: {
        level: 'error',
        time: T,
        component: 'dns',
        err: { type: 'Error', message: 'listen EADDRINUSE', code: 'EADDRINUSE', stack: 'Error: x\n    at y' },
        msg: 'bind failed',
      },
      showStack: false,
      want: `${T} ERROR [dns] bind failed err="listen EADDRINUSE" err.code=EADDRINUSE`,
    },
    {
      name: 'error with stack at debug',
      record: {
        level: 'error',
        time: T,
        err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (a.js:1:1)' },
        msg: 'failed',
      },
      showStack: true,
      want: `${T} ERROR failed err=boom\n    Error: boom\n        at f (a.js:1:1)`,
    },
    {
      name: 'numeric level and epoch time',
      record: { level: 30, time: Date.parse(T), msg: 'x' },
      showStack: false,
      want: `${T} INFO  x`,
    },
    {
      name: 'control characters in the message stay on one line',
      record: { level: 'info', time: T, msg: 'a\nb' },
      showStack: false,
      want: `${T} INFO  a\\nb`,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.equal(formatTextLine(c.record, { showStack: c.showStack }), c.want);
    });
  }
});

describe('createTextDestination', () => {
  it('formats JSON lines and passes anything else through', () => {
    const written: string[] = [];
    const sink = createTextDestination(
      {
        write: (s: string) => {
          written.push(s);
          return true;
        },
      } as NodeJS.WritableStream,
      { showStack: false },
    );
    sink.write(`${JSON.stringify({ level: 'info', time: T, msg: 'hello', n: 1 })}\n`);
    sink.write('not json\n');
    assert.deepEqual(written, [`${T} INFO  hello n=1\n`, 'not json\n']);
  });
});
