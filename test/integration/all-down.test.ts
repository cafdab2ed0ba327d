/**
 * When every backend of a name is down: SERVFAIL, or with `return_last_healthy: true` the last healthy set.
 * Addresses 127.0.4.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig, serversOf } from '../testkit/config.js';
import { waitHealth } from '../testkit/observe.js';
import { answerData, type RunningOpengslb, rcodeOf, startOpengslb } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';

const A = '127.0.4.2';
const B = '127.0.4.3';
/** Never listening: a backend that was never healthy. */
const NEVER = '127.0.4.4';

describe('all backends down', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];

  before(async () => {
    backends = await startBackends([A, B]);
    const port = (backends[0] as TestBackend).port;
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [
            { name: 'pair', servers: serversOf(backends), health_check: FAST_CHECK },
            { name: 'void', servers: [{ address: NEVER, port }], health_check: FAST_CHECK },
          ],
          domains: [
            { name: 'strict.example.com', regions: ['pair'], max_records: 2 },
            { name: 'open.example.com', regions: ['pair'], max_records: 2, return_last_healthy: true },
            { name: 'never.example.com', regions: ['void'], return_last_healthy: true },
          ],
        }),
    });
    await waitHealth(run, { [A]: true, [B]: true, [NEVER]: false });
  });

  after(async () => {
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  it('answers SERVFAIL without return_last_healthy, the last healthy set with it', async () => {
    assert.ok(run);
    const r = run;
    assert.deepEqual(await r.addresses('strict.example.com'), [A, B]);
    assert.deepEqual(await r.addresses('open.example.com'), [A, B]);

    // One at a time, so the last healthy set is known exactly: {B}.
    (backends[0] as TestBackend).setStatus(500);
    await waitHealth(r, { [A]: false, [B]: true });
    assert.deepEqual(await r.addresses('strict.example.com'), [B]);
    (backends[1] as TestBackend).setStatus(503);
    await waitHealth(r, { [A]: false, [B]: false });

    const strict = await r.udp('strict.example.com');
    assert.equal(rcodeOf(strict), 'SERVFAIL', 'every backend down, return_last_healthy false');
    assert.deepEqual(answerData(strict, 'A'), []);
    for (let i = 0; i < 5; i++) {
      const open = await r.udp('open.example.com');
      assert.equal(rcodeOf(open), 'NOERROR', 'return_last_healthy serves instead of failing');
      assert.deepEqual(answerData(open, 'A'), [B], 'the last healthy set, not every configured backend');
    }
    // Through TCP too: the choice is made once, in the answer table, not per transport.
    assert.deepEqual(answerData(await r.tcp('open.example.com'), 'A'), [B]);
  });

  it('serves the live set again once a backend recovers', async () => {
    assert.ok(run);
    const r = run;
    (backends[0] as TestBackend).setStatus(200);
    await waitFor(
      'strict.example.com answers again',
      async () => (rcodeOf(await r.udp('strict.example.com')) === 'NOERROR' ? true : undefined),
      5000,
    );
    assert.deepEqual(await r.addresses('strict.example.com'), [A]);
    assert.deepEqual(await r.addresses('open.example.com'), [A], 'live set wins over the remembered one');
  });

  it('a name whose backends were never healthy is SERVFAIL even with return_last_healthy', async () => {
    assert.ok(run);
    assert.equal(rcodeOf(await run.udp('never.example.com')), 'SERVFAIL');
  });
});
