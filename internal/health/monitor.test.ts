import assert from 'node:assert/strict';
import type { Server as HttpServer } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Checker } from './monitor.js';
import { createHealthMonitor } from './monitor.js';
import type { CheckResult, CheckSpec, CheckType, HealthTarget, TargetStatus } from './types.js';

/** Polls `cond` every 10ms until it holds; fails naming `what` after `timeoutMs`. */
async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Awaits `p` but fails naming `what` if it does not settle within `timeoutMs`. */
async function within<T>(what: string, p: Promise<T>, timeoutMs = 3000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs}ms waiting for ${what}`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

function recordingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino(
    { level: 'debug', base: null, timestamp: false },
    { write: (s) => lines.push(JSON.parse(s)) },
  );
  return { log, lines };
}

async function listen(t: TestContext, server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => {
    if ('closeAllConnections' in server) server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

/** An HTTP server answering with whatever `state.code` holds at request time. */
async function statusServer(t: TestContext, state: { code: number }): Promise<number> {
  return listen(
    t,
    createHttpServer((_req, res) => {
      res.statusCode = state.code;
      res.end();
    }),
  );
}

async function closedPort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function spec(type: CheckType, over: Partial<CheckSpec> = {}): CheckSpec {
  return {
    type,
    intervalMs: 100,
    timeoutMs: 500,
    path: '/health',
    expectedStatus: [{ min: 200, max: 299 }],
    failureThreshold: 2,
    successThreshold: 2,
    ...over,
  };
}

function target(key: string, port: number, s: CheckSpec, region = 'eu'): HealthTarget {
  return { key, address: '127.0.0.1', port, region, spec: s };
}

/**
 * Node timers count from the event loop's cached time, which lags performance.now() by the synchronous
 * work done earlier in the same loop turn, so a timer can fire a few ms "early" by performance.now().
 */
const EARLY_MS = 10;

const verdicts = (ss: TargetStatus[]) => ss.map((s) => `${s.key}=${s.healthy}`);

describe('createHealthMonitor with real checkers', () => {
  it('first round is done once every target has a result', async (t) => {
    const up = await statusServer(t, { code: 200 });
    const tcp = await listen(
      t,
      createNetServer((s) => s.destroy()),
    );
    const down = await closedPort();
    const { log, lines } = recordingLogger();
    const changes: { status: TargetStatus; prev: TargetStatus }[] = [];
    const m = createHealthMonitor({
      targets: [
        target('web', up, spec('http', { intervalMs: 200 })),
        target('tcp', tcp, spec('tcp', { intervalMs: 200 })),
        target('gone', down, spec('http', { intervalMs: 200 }), 'us'),
      ],
      log,
      onChange: (status, prev) => changes.push({ status, prev }),
    });
    t.after(() => m.stop());
    assert.equal(m.firstRoundDone(), false, 'no results before start');
    assert.deepEqual(verdicts(m.status()), ['web=undefined', 'tcp=undefined', 'gone=undefined']);
    m.start();
    await within('first round', m.whenFirstRoundDone());
    assert.equal(m.firstRoundDone(), true);
    assert.deepEqual(verdicts(m.status()), ['web=true', 'tcp=true', 'gone=false']);
    assert.deepEqual(changes.map((c) => `${c.status.key}:${c.prev.healthy}->${c.status.healthy}`).sort(), [
      'gone:undefined->false',
      'tcp:undefined->true',
      'web:undefined->true',
    ]);
    const info = lines.filter((l) => l.level === 30);
    const gone = info.find((l) => l['key'] === 'gone');
    assert.deepEqual(gone, {
      level: 30,
      msg: 'health changed',
      key: 'gone',
      address: '127.0.0.1',
      port: down,
      region: 'us',
      healthy: false,
      error: 'connection refused',
    });
  });

  it('zero targets: first round is trivially done', async () => {
    const m = createHealthMonitor({ targets: [], log: recordingLogger().log });
    assert.equal(m.firstRoundDone(), true);
    await within('first round of nothing', m.whenFirstRoundDone(), 100);
    await m.stop();
  });

  it('falls after failureThreshold failures and rises after successThreshold successes', async (t) => {
    const state = { code: 200 };
    const port = await statusServer(t, state);
    const { log, lines } = recordingLogger();
    const changes: TargetStatus[] = [];
    let results = 0;
    const m = createHealthMonitor({
      targets: [target('web', port, spec('http', { failureThreshold: 2, successThreshold: 3 }))],
      log,
      onChange: (s) => changes.push(s),
      onResult: () => results++,
    });
    t.after(() => m.stop());
    m.start();
    await waitFor('web healthy', () => m.get('web')?.healthy === true);
    state.code = 500;
    await waitFor('web unhealthy', () => m.get('web')?.healthy === false);
    state.code = 200;
    await waitFor('web healthy again', () => m.get('web')?.healthy === true && changes.length === 3);
    const summary = changes.map((c) => ({
      healthy: c.healthy,
      failures: c.consecutiveFailures,
      successes: c.consecutiveSuccesses,
      error: c.lastError,
    }));
    assert.deepEqual(summary, [
      { healthy: true, failures: 0, successes: 1, error: undefined },
      { healthy: false, failures: 2, successes: 0, error: 'unexpected status 500 (want 200-299)' },
      { healthy: true, failures: 0, successes: 3, error: undefined },
    ]);
    assert.ok(results >= 6, `at least 1 + 2 + 3 checks ran, got ${results}`);
    const infos = lines.filter((l) => l.level === 30).map((l) => l['healthy']);
    assert.deepEqual(infos, [true, false, true], 'one info line per transition, none per check');
  });

  it('update keeps unchanged targets, restarts changed ones, stops removed ones', async (t) => {
    const port = await statusServer(t, { code: 200 });
    const other = await statusServer(t, { code: 200 });
    const { log } = recordingLogger();
    const seen: string[] = [];
    const m = createHealthMonitor({
      targets: [
        target('keep', port, spec('http')),
        target('move', port, spec('http')),
        target('drop', port, spec('http')),
        target('respec', port, spec('http')),
      ],
      log,
      onResult: (tg) => seen.push(tg.key),
    });
    t.after(() => m.stop());
    m.start();
    await within('first round', m.whenFirstRoundDone());
    const kept = m.get('keep');
    assert.ok(kept !== undefined && kept.checks >= 1);

    // Fresh objects with equal contents: identity must not matter. The region change is adopted in place.
    m.update([
      target('keep', port, spec('http'), 'eu-west'),
      target('move', other, spec('http')),
      target('new', other, spec('tcp')),
      target('respec', port, spec('http', { intervalMs: 150 })),
    ]);
    seen.length = 0;
    // Regression: a reload that only tunes check settings pulled healthy backends out of DNS answers.
    const respec = m.get('respec');
    assert.equal(respec?.healthy, true, 'a target whose spec alone changed keeps its verdict');
    const keep = m.get('keep');
    assert.deepEqual({ ...keep, region: 'eu' }, kept, 'unchanged target keeps its status');
    assert.equal(keep?.region, 'eu-west');
    assert.deepEqual(
      [m.get('move'), m.get('new')].map((s) => [s?.port, s?.checks, s?.healthy]),
      [
        [other, 0, undefined],
        [other, 0, undefined],
      ],
    );
    assert.equal(m.get('drop'), undefined);
    assert.equal(m.firstRoundDone(), false, 'new targets have no result yet');
    await within('first round after update', m.whenFirstRoundDone());
    await waitFor('two more checks of keep', () => (m.get('keep')?.checks ?? 0) >= kept.checks + 2);
    assert.ok(!seen.includes('drop'), `removed target still checked: ${seen.join(',')}`);
    assert.deepEqual(
      m.status().map((s) => s.key),
      ['keep', 'move', 'new', 'respec'],
    );
  });

  it('stop aborts checks in flight and clears every timer', async (t) => {
    let requests = 0;
    const hang = await listen(
      t,
      createHttpServer(() => {
        requests++;
      }),
    );
    const up = await statusServer(t, { code: 200 });
    // Counted after the servers exist: node:http servers hold a connection-checking interval of their own.
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const m = createHealthMonitor({
      targets: [target('hang', hang, spec('http', { timeoutMs: 10_000 })), target('up', up, spec('http'))],
      log: recordingLogger().log,
    });
    m.start();
    const firstRound = m.whenFirstRoundDone();
    await waitFor('hanging check in flight', () => requests === 1 && (m.get('up')?.checks ?? 0) >= 1);
    const started = performance.now();
    await within('stop', m.stop(), 2000);
    assert.ok(performance.now() - started < 1000, 'stop must not wait for the 10s check timeout');
    await assert.rejects(firstRound, /stopped before every target had a result/);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.equal(timersAfter, timersBefore, 'timers left after stop');
    const checks = m.get('up')?.checks;
    m.start();
    m.update([]);
    assert.equal(m.get('up')?.checks, checks, 'start and update are no-ops after stop');
    await m.stop();
  });
});

describe('createHealthMonitor scheduling (injected checkers)', () => {
  /** A checker that records start times per key and takes `workMs` (ending early on abort). */
  function timedChecker(workMs: number) {
    const starts = new Map<number, number[]>();
    let inFlight = 0;
    let maxInFlight = 0;
    const checker: Checker = (tg, _spec, opts) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      starts.set(tg.port, [...(starts.get(tg.port) ?? []), performance.now()]);
      return new Promise<CheckResult>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          inFlight--;
          resolve({ ok: true, rttMs: workMs });
        };
        // Simulated work, not synchronisation: the test awaits conditions on the recorded starts.
        const timer = setTimeout(done, workMs);
        opts.signal?.addEventListener('abort', done, { once: true });
      });
    };
    return { checker, starts, maxInFlight: () => maxInFlight };
  }

  it('first starts are spread over the interval: target i of n at floor(i * interval / n)', async (t) => {
    const { checker, starts } = timedChecker(0);
    const targets = [1, 2, 3, 4].map((p) => target(`t${p}`, p, spec('tcp', { intervalMs: 400 })));
    const m = createHealthMonitor({ targets, log: recordingLogger().log, checkers: { tcp: checker } });
    t.after(() => m.stop());
    const t0 = performance.now();
    m.start();
    await waitFor('every target started', () => starts.size === 4);
    const offsets = [1, 2, 3, 4].map((p) => (starts.get(p)?.[0] ?? Number.NaN) - t0);
    for (const [i, off] of offsets.entries()) {
      const want = Math.floor((i * 400) / 4);
      assert.ok(
        off >= want - EARLY_MS && off < want + 90,
        `target ${i} started at ${off}ms, want ~${want}ms (${offsets})`,
      );
    }
  });

  it('the period runs from start to start, not from completion', async (t) => {
    const { checker, starts, maxInFlight } = timedChecker(60);
    const m = createHealthMonitor({
      targets: [target('a', 1, spec('tcp', { intervalMs: 150 }))],
      log: recordingLogger().log,
      checkers: { tcp: checker },
    });
    t.after(() => m.stop());
    m.start();
    await waitFor('5 starts', () => (starts.get(1)?.length ?? 0) >= 5);
    const s = starts.get(1) ?? [];
    const gaps = s.slice(1, 5).map((v, i) => v - (s[i] ?? 0));
    const mean = (s[4]! - s[0]!) / 4;
    assert.ok(
      gaps.every((g) => g >= 150 - EARLY_MS),
      `gaps ${gaps}: no start before the interval elapsed`,
    );
    assert.ok(
      mean < 190,
      `mean gap ${mean}ms: 150ms period plus 60ms work would be 210ms if measured from completion`,
    );
    assert.equal(maxInFlight(), 1);
  });

  it('an overrunning check delays the next start instead of overlapping it', async (t) => {
    const { checker, starts, maxInFlight } = timedChecker(220);
    const m = createHealthMonitor({
      targets: [target('slow', 1, spec('tcp', { intervalMs: 100 }))],
      log: recordingLogger().log,
      checkers: { tcp: checker },
    });
    t.after(() => m.stop());
    m.start();
    await waitFor('3 starts', () => (starts.get(1)?.length ?? 0) >= 3);
    const s = starts.get(1) ?? [];
    const gaps = s.slice(1, 3).map((v, i) => v - (s[i] ?? 0));
    assert.ok(
      gaps.every((g) => g >= 220 - EARLY_MS),
      `gaps ${gaps}: each start must wait for the 220ms check before it`,
    );
    assert.equal(maxInFlight(), 1, 'two checks of one target were in flight');
  });

  it('a throwing checker or callback yields a failed check and keeps the loop going', async (t) => {
    const { log, lines } = recordingLogger();
    const m = createHealthMonitor({
      targets: [target('x', 1, spec('http'))],
      log,
      checkers: { http: () => Promise.reject(new Error('boom')) },
      onResult: () => {
        throw new Error('callback bug');
      },
    });
    t.after(() => m.stop());
    m.start();
    await waitFor('two checks', () => (m.get('x')?.checks ?? 0) >= 2);
    assert.equal(m.get('x')?.lastError, 'checker failed: boom');
    assert.equal(m.get('x')?.healthy, false);
    const errors = lines.filter((l) => l.level === 50);
    assert.ok(errors.length >= 2, 'each callback throw is logged');
    assert.equal(errors[0]?.msg, 'health monitor callback threw');
  });

  it('rejects invalid targets listing every problem', () => {
    const bad = [
      target('a', 1, spec('tcp')),
      target('a', 0, spec('tcp', { intervalMs: 0 })),
      target('b', 2, spec('udp' as CheckType, { timeoutMs: 1.5 })),
    ];
    assert.throws(
      () => createHealthMonitor({ targets: bad, log: recordingLogger().log }),
      (e: unknown) => {
        assert.ok(e instanceof RangeError);
        const want = [
          'targets[1] (key "a"): duplicate key',
          'targets[1] (key "a"): port 0 not an integer in [1, 65535]',
          'targets[1] (key "a"): spec.intervalMs 0 not an integer in [1, 86400000]',
          'targets[2] (key "b"): spec.type "udp" is not one of http, https, tcp',
          'targets[2] (key "b"): spec.timeoutMs 1.5 not an integer in [1, 86400000]',
        ];
        for (const w of want) assert.ok(e.message.includes(w), `missing "${w}" in: ${e.message}`);
        return true;
      },
    );
  });
});
