/**
 * Before the first round of health checks completes the node is not ready (503) and A queries get SERVFAIL,
 * even when some backends already passed. The slow round is deterministic: the test's own /health server
 * holds every request until the test releases it. Addresses 127.0.5.x.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { serverStatuses, waitHealth } from '../testkit/observe.js';
import { type RunningOpengslb, rcodeOf, startOpengslb } from '../testkit/opengslb.js';
import { freePort } from '../testkit/ports.js';
import { waitFor } from '../testkit/wait.js';

const HELD = '127.0.5.2';
const FAST = '127.0.5.3';

/** A /health server that parks every request until `release()`; then (and from then on) answers 200. */
async function startHeldBackend(address: string) {
  const port = await freePort(address);
  const parked: ServerResponse[] = [];
  let released = false;
  const answer = (res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end('ok\n');
  };
  const server = createServer((_req, res) => {
    if (released) return answer(res);
    parked.push(res);
    server.emit('parked');
  });
  server.listen(port, address);
  await once(server, 'listening');
  return {
    address,
    port,
    /** Resolves once at least one health request is being held. */
    whenHolding: async (): Promise<void> => {
      if (parked.length === 0) await once(server, 'parked');
    },
    release: (): void => {
      released = true;
      for (const res of parked.splice(0)) answer(res);
    },
    stop: async (): Promise<void> => {
      released = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

describe('readiness before the first round of health checks', () => {
  let run: RunningOpengslb | undefined;
  let held: Awaited<ReturnType<typeof startHeldBackend>> | undefined;
  let fast: TestBackend[] = [];

  before(async () => {
    held = await startHeldBackend(HELD);
    fast = await startBackends([FAST]);
    const heldPort = held.port;
    run = await startOpengslb({
      waitReady: false,
      config: (ports) =>
        gslbConfig(ports, {
          regions: [
            {
              name: 'slow',
              servers: [{ address: HELD, port: heldPort }],
              // Long enough that the held check cannot time out while the test looks (the round must stay open).
              health_check: {
                type: 'http',
                interval: '20s',
                timeout: '15s',
                failure_threshold: 1,
                success_threshold: 1,
              },
            },
            {
              name: 'quick',
              servers: [{ address: FAST, port: (fast[0] as TestBackend).port }],
              health_check: FAST_CHECK,
            },
          ],
          domains: [
            { name: 'slow.example.com', regions: ['slow'] },
            { name: 'quick.example.com', regions: ['quick'] },
          ],
        }),
    });
  });

  after(async () => {
    await run?.stop();
    await held?.stop();
    await Promise.all(fast.map((b) => b.stop()));
  });

  it('is not ready and answers SERVFAIL while a first check is outstanding', async () => {
    assert.ok(run && held);
    const r = run;
    await held.whenHolding();
    // The other region's backend has passed: readiness needs every target, not just one.
    await waitHealth(r, { [FAST]: true });
    const slow = (await serverStatuses(r)).find((s) => s.address === HELD);
    assert.equal(slow?.healthy, null, 'the held target has no verdict yet');

    const ready = await r.api('/api/v1/ready');
    assert.equal(ready.status, 503, `ready before the first round: ${JSON.stringify(ready.body)}`);
    assert.equal((await r.api('/api/v1/live')).status, 200, 'live while not ready');
    for (const name of ['quick.example.com', 'slow.example.com']) {
      assert.equal(rcodeOf(await r.udp(name)), 'SERVFAIL', `${name} before the first round (UDP)`);
      assert.equal(rcodeOf(await r.tcp(name)), 'SERVFAIL', `${name} before the first round (TCP)`);
    }
  });

  it('becomes ready and answers once the held check completes', async () => {
    assert.ok(run && held);
    const r = run;
    held.release();
    await waitFor(
      '/api/v1/ready 200',
      async () => ((await r.api('/api/v1/ready')).status === 200 ? true : undefined),
      5000,
    );
    assert.deepEqual(await r.addresses('slow.example.com'), [HELD]);
    assert.deepEqual(await r.addresses('quick.example.com'), [FAST]);
  });
});
