import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { describeNetworkError, startAttempt } from './check-attempt.js';

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('startAttempt', () => {
  it('the deadline aborts the signal and wins over the error it causes', async () => {
    const attempt = startAttempt(30);
    await once(attempt.signal, 'abort');
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    assert.equal(attempt.describe(reset), 'timeout after 30ms');
    assert.ok(attempt.elapsedMs() >= 20, `elapsed ${attempt.elapsedMs()}ms`);
    attempt.finish();
  });

  it('a caller abort is reported as aborted, also when it happened before the start', () => {
    const controller = new AbortController();
    const attempt = startAttempt(10_000, { signal: controller.signal });
    assert.equal(attempt.signal.aborted, false);
    controller.abort();
    assert.equal(attempt.signal.aborted, true);
    assert.equal(attempt.describe(new Error('whatever')), 'aborted');
    attempt.finish();
    const early = startAttempt(10_000, { signal: AbortSignal.abort() });
    assert.equal(early.describe(undefined), 'aborted');
    early.finish();
  });

  it('finish clears the deadline timer and a later deadline no longer applies', () => {
    const before = timers();
    const attempt = startAttempt(10_000);
    assert.equal(timers(), before + 1);
    attempt.finish();
    assert.equal(timers(), before, 'deadline timer left after finish');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.equal(attempt.describe(refused), 'connection refused');
  });
});

describe('describeNetworkError', () => {
  const err = (code: string | undefined, message: string, extra: object = {}): Error =>
    Object.assign(new Error(message), code === undefined ? {} : { code }, extra);
  const cases: { name: string; e: unknown; want: string }[] = [
    {
      name: 'refused',
      e: err('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:80'),
      want: 'connection refused',
    },
    { name: 'reset', e: err('ECONNRESET', 'read ECONNRESET'), want: 'connection reset' },
    { name: 'hang up', e: err('ECONNRESET', 'socket hang up'), want: 'connection closed before response' },
    { name: 'unreachable', e: err('EHOSTUNREACH', 'connect EHOSTUNREACH'), want: 'host unreachable' },
    { name: 'dns', e: err('ENOTFOUND', 'getaddrinfo ENOTFOUND x.invalid'), want: 'host not found' },
    {
      name: 'openssl reason field',
      e: err('ERR_SSL_WRONG_VERSION_NUMBER', 'long text', { reason: 'wrong version number' }),
      want: 'tls error: wrong version number',
    },
    {
      name: 'EPROTO raw openssl stack',
      e: err(
        'EPROTO',
        'write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../x.c:350:',
      ),
      want: 'tls error: wrong version number',
    },
    {
      name: 'tls without openssl text',
      e: err('ERR_TLS_CERT_ALTNAME_INVALID', 'bad name'),
      want: 'tls error: bad name',
    },
    {
      name: 'http parser',
      e: err('HPE_INVALID_CONSTANT', 'Parse Error: Expected HTTP/'),
      want: 'invalid http response: Parse Error: Expected HTTP/',
    },
    {
      name: 'unknown code keeps first line',
      e: err('EWHATEVER', 'odd\nsecond line'),
      want: 'EWHATEVER: odd',
    },
    { name: 'no code', e: err(undefined, 'plain message'), want: 'plain message' },
    { name: 'not an Error', e: 'text', want: 'check failed: text' },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(describeNetworkError(c.e), c.want));
  }
});
