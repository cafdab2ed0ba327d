/**
 * Operator overrides end to end (docs/decisions.md, "Overrides" and "Events"), on static backends of a real
 * overwatch with api.admin_token set: REST PUT/DELETE answer once the decision is applied (the very next DNS
 * query reflects it), TTLs expire by themselves, bad requests name what is wrong, writes need the token, X-User
 * is recorded; over gRPC, `opengslbctl override set|list|clear` round-trips and WatchEvents streams override
 * events live and replays from a cursor. Addresses 127.0.45.x and ::1.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { OverwatchService } from '../../internal/gen/opengslb/v1/admin_pb.js';
import { createClient, type ServiceClient } from '../../internal/grpc/client.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig, serversOf } from '../testkit/config.js';
import { rowOf, runCtl } from '../testkit/ctl.js';
import { waitHealth } from '../testkit/observe.js';
import { backendAt, waitAnswers } from '../testkit/observe-agents.js';
import {
  deleteOverride,
  errorMessage,
  eventsOf,
  lastEventId,
  overridesOf,
  putOverride,
  waitEvent,
} from '../testkit/observe-decisions.js';
import { answerData, type RunningOpengslb, rcodeOf, startOpengslb } from '../testkit/opengslb.js';
import { waitFor } from '../testkit/wait.js';
import { overrideRefusals } from './override-refusals.js';

const NAME = 'app.example.com';
const V6_NAME = 'v6.example.com';
const ADMIN_TOKEN = 'admin-secret';
const AUTH = { authorization: `Bearer ${ADMIN_TOKEN}` };
const S1 = '127.0.45.2';
const S2 = '127.0.45.3';
const S3 = '127.0.45.4';
/** Expiry is proposed by the decision loop's 1 s tick, so an override outlives its TTL by up to a second. */
const TICK_MS = 1000;

type AdminClient = ServiceClient<typeof OverwatchService>;

describe('operator overrides', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];
  let v6: TestBackend | undefined;
  let v6Skip: string | undefined;
  let admin: AdminClient | undefined;
  const ow = (): RunningOpengslb => {
    assert.ok(run, 'overwatch started');
    return run;
  };
  const target = (address: string): string => {
    const port = backends[0]?.port ?? 0;
    return `${address}:${port}`;
  };

  before(async () => {
    backends = await startBackends([S1, S2, S3]);
    try {
      [v6] = await startBackends(['::1']);
    } catch (e: unknown) {
      v6Skip = `cannot bind ::1 here: ${e instanceof Error ? e.message : String(e)}`;
    }
    const v6Regions =
      v6 === undefined ? [] : [{ name: 'r6', servers: serversOf([v6]), health_check: FAST_CHECK }];
    const v6Domains = v6 === undefined ? [] : [{ name: V6_NAME, regions: ['r6'] }];
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          api: `  admin_token: ${JSON.stringify(ADMIN_TOKEN)}`,
          regions: [{ name: 'r4', servers: serversOf(backends), health_check: FAST_CHECK }, ...v6Regions],
          domains: [{ name: NAME, regions: ['r4'], max_records: 4 }, ...v6Domains],
        }),
    });
    admin = createClient(OverwatchService, `127.0.0.1:${run.ports.grpc}`, credentials.createInsecure());
    await waitAnswers(run, NAME, [S1, S2, S3], 10_000);
  });

  after(async () => {
    admin?.$close();
    await run?.stop();
    await Promise.all([...backends, ...(v6 === undefined ? [] : [v6])].map((b) => b.stop()));
  });

  it('drain: out of the answers by the time PUT returns 200; X-User in the override and its event', async () => {
    const r = ow();
    const since = await lastEventId(r);
    const res = await putOverride(
      r,
      NAME,
      target(S1),
      { action: 'drain', reason: 'kernel upgrade' },
      { ...AUTH, 'x-user': 'alice' },
    );
    // No wait between the response and the query: the answer comes once the decision is applied.
    const answers = await r.addresses(NAME);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(answers, [S2, S3], 'the drained backend left the very next answer');
    const o = (res.body as { override: Record<string, unknown> }).override;
    assert.equal(o['action'], 'drain');
    assert.equal(o['user'], 'alice');
    assert.equal(o['expires'], null, 'no ttl: until cleared');

    const listed = (await overridesOf(r)).find((x) => x.address === S1);
    assert.equal(listed?.user, 'alice', `GET /api/v1/overrides: ${JSON.stringify(listed)}`);
    assert.equal(listed?.reason, 'kernel upgrade');
    assert.equal(listed?.target, target(S1));
    const d = await backendAt(r, S1);
    assert.equal(d?.status, 'draining');
    assert.equal(d?.source, 'override');
    assert.equal(d?.reason, 'override drain by alice: kernel upgrade');
    const events = (await eventsOf(r, since)).filter((e) => e.backend === target(S1));
    const set = events.find((e) => e.source === 'override' && e.details['action'] === 'drain');
    assert.equal(set?.details['user'], 'alice', `override event: ${JSON.stringify(events)}`);
    assert.ok(
      events.some((e) => e.to === 'draining' && e.from === 'healthy'),
      `a decision event healthy -> draining: ${JSON.stringify(events)}`,
    );

    const del = await deleteOverride(r, NAME, target(S1), { ...AUTH, 'x-user': 'alice' });
    const back = await r.addresses(NAME);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual(back, [S1, S2, S3], 'back in the very next answer after DELETE');
    assert.deepEqual(await overridesOf(r), []);
    const cleared = (await eventsOf(r, since)).find((e) => e.reason === 'override cleared by alice');
    assert.equal(cleared?.details['user'], 'alice');
  });

  it('force_healthy keeps a failing static backend in the answers until cleared', async () => {
    const r = ow();
    const failing = backends[1];
    assert.ok(failing);
    failing.setStatus(500);
    try {
      await waitHealth(r, { [S2]: false });
      assert.deepEqual(await r.addresses(NAME), [S1, S3]);
      const res = await putOverride(
        r,
        NAME,
        target(S2),
        { action: 'force_healthy', reason: 'false alarm' },
        AUTH,
      );
      const answers = await r.addresses(NAME);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(answers, [S1, S2, S3], 'forced back in with the very next answer');
      // Still failing its checks, still in: the override outranks the overwatch's own checks.
      await waitFor(
        'another failing check of S2',
        async () => {
          const s = (await r.api('/api/v1/health/servers')).body as {
            servers: Array<{ address: string; consecutive_failures: number }>;
          };
          return (s.servers.find((x) => x.address === S2)?.consecutive_failures ?? 0) >= 4 ? true : undefined;
        },
        5000,
      );
      assert.deepEqual(await r.addresses(NAME), [S1, S2, S3]);
      assert.equal((await backendAt(r, S2))?.status, 'healthy');

      const del = await deleteOverride(r, NAME, target(S2), AUTH);
      const after = await r.addresses(NAME);
      assert.equal(del.status, 200);
      assert.deepEqual(after, [S1, S3], 'the failing backend is out again once the override is cleared');
    } finally {
      failing.setStatus(200);
    }
    await waitHealth(r, { [S2]: true });
  });

  it('a ttl of 1s expires by itself: back in the answers and an "override expired" event', async (t) => {
    const r = ow();
    const since = await lastEventId(r);
    const started = performance.now();
    const res = await putOverride(r, NAME, target(S3), { action: 'drain', ttl: '1s' }, AUTH);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const o = (res.body as { override: { created: string; expires: string | null } }).override;
    assert.equal(
      Date.parse(o.expires ?? '') - Date.parse(o.created),
      1000,
      `expires 1s after created: ${JSON.stringify(o)}`,
    );
    assert.deepEqual(await r.addresses(NAME), [S1, S2]);
    const ms = await waitAnswers(r, NAME, [S1, S2, S3], 1000 + TICK_MS + 2000, started);
    t.diagnostic(`back in the answers ${ms.toFixed(0)}ms after the PUT (ttl 1000ms, tick ${TICK_MS}ms)`);
    assert.ok(ms >= 900, `back after ${ms.toFixed(0)}ms, before the 1s ttl`);
    assert.ok(ms <= 1000 + TICK_MS + 500, `back after ${ms.toFixed(0)}ms; bound ttl + tick + 500ms`);
    const e = await waitEvent(
      r,
      'override expired',
      (x) => x.reason === 'override expired' && x.backend === target(S3),
      1000,
      since,
    );
    assert.equal(e.source, 'override');
    assert.equal(e.details['user'], 'system');
    assert.deepEqual(await overridesOf(r), []);
  });

  it('an IPv6 backend [::1]:port is drained and restored by its bracketed target', async (t) => {
    if (v6 === undefined) return t.skip(v6Skip);
    const r = ow();
    const v6Target = `[::1]:${v6.port}`;
    await waitFor(
      '::1 in the AAAA answers',
      async () => {
        const a = answerData(await r.udp(V6_NAME, 'AAAA'), 'AAAA');
        return a.includes('::1') ? true : undefined;
      },
      10_000,
    );
    const res = await putOverride(r, V6_NAME, v6Target, { action: 'drain' }, AUTH);
    const drained = await r.udp(V6_NAME, 'AAAA');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(rcodeOf(drained), 'SERVFAIL', 'its only backend drained');
    const listed = await overridesOf(r);
    assert.deepEqual(
      listed.map((o) => [o.address, o.target]),
      [['::1', v6Target]],
    );
    const del = await deleteOverride(r, V6_NAME, v6Target, AUTH);
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual(answerData(await r.udp(V6_NAME, 'AAAA'), 'AAAA'), ['::1']);
  });

  describe('refusals name what is wrong', () => {
    const cases = overrideRefusals({ name: NAME, backend: S1, target, auth: AUTH });
    for (const c of cases) {
      it(c.name, async () => {
        const r = ow();
        const res = await c.send(r);
        assert.equal(res.status, c.status, `status; body ${JSON.stringify(res.body)}`);
        assert.match(errorMessage(res.body), c.message);
        // Nothing was written, and everything still serves.
        assert.deepEqual(await overridesOf(r), []);
        assert.deepEqual(await r.addresses(NAME), [S1, S2, S3]);
      });
    }
  });

  it('opengslbctl override set, list and clear round-trip over gRPC', async () => {
    const r = ow();
    const token = ['--token', ADMIN_TOKEN];
    const set = await runCtl(r, [
      'override',
      'set',
      NAME,
      target(S2),
      'force_unhealthy',
      '--reason',
      'bad disk',
      '--user',
      'bob',
      '--ttl',
      '2h',
      ...token,
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout.trim(), `override set: ${NAME} ${target(S2)} force_unhealthy for 2h`);
    assert.deepEqual(await r.addresses(NAME), [S1, S3], 'out as soon as the command returns');

    const list = await runCtl(r, ['override', 'list', ...token]);
    assert.equal(list.code, 0, list.stderr);
    const row = rowOf(list.stdout, target(S2));
    assert.match(row, /\bforce_unhealthy\b/);
    assert.match(row, /\bbob\b/);
    assert.match(row, /bad disk/);
    assert.doesNotMatch(row, /\bnever\b/, 'a 2h ttl has an expiry');
    const rest = (await overridesOf(r)).find((o) => o.address === S2);
    assert.equal(rest?.user, 'bob', 'the same override over REST');
    assert.equal(Date.parse(rest?.expires ?? '') - Date.parse(rest?.created ?? ''), 2 * 3600_000);
    assert.equal((await backendAt(r, S2))?.status, 'unhealthy');

    const unknown = await runCtl(r, ['override', 'clear', NAME, target(S3), ...token]);
    assert.equal(unknown.code, 1, unknown.stdout);
    assert.match(unknown.stderr, /NOT_FOUND.*no override for 127\.0\.45\.4:\d+/);

    const clear = await runCtl(r, ['override', 'clear', NAME, target(S2), '--user', 'bob', ...token]);
    assert.equal(clear.code, 0, clear.stderr);
    assert.equal(clear.stdout.trim(), `override cleared: ${NAME} ${target(S2)}`);
    assert.deepEqual(await r.addresses(NAME), [S1, S2, S3], 'back as soon as the command returns');
    const after = await runCtl(r, ['override', 'list', ...token]);
    assert.equal(after.code, 0, after.stderr);
    assert.ok(!after.stdout.includes(target(S2)), `override list after clear:\n${after.stdout}`);
  });

  it('WatchEvents streams an override event live, and since=<id> replays from that cursor', async () => {
    const r = ow();
    assert.ok(admin);
    const call = { metadata: AUTH, timeoutMs: 10_000 };
    const cursor = await lastEventId(r);
    assert.ok(cursor > 1, 'earlier tests left events');
    // Starting one event back: receiving the backlog's event proves the watch is subscribed before the PUT.
    const live = admin.watchEvents({ since: String(cursor - 1), follow: true }, call);
    const it = live[Symbol.asyncIterator]();
    try {
      const first = await it.next();
      if (first.done === true) assert.fail('the stream ended before the backlog');
      assert.equal(first.value.event?.id, String(cursor), 'the backlog from the cursor');
      const res = await putOverride(
        r,
        NAME,
        target(S1),
        { action: 'drain', reason: 'watch me' },
        { ...AUTH, 'x-user': 'carol' },
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const seen: string[] = [];
      for (;;) {
        const next = await it.next();
        if (next.done === true) assert.fail(`the stream ended; saw ${seen.join(' | ')}`);
        const e = next.value.event;
        seen.push(`${e?.id} [${e?.source}] ${e?.reason}`);
        if (e?.source === 'override') {
          assert.equal(e.reason, 'override drain by carol: watch me');
          assert.equal(e.details['user'], 'carol');
          assert.equal(e.backend?.address, S1);
          assert.ok(Number(e.id) > cursor, `id ${e.id} continues after the cursor ${cursor}`);
          break;
        }
      }
    } finally {
      await it.return?.();
    }

    // Replay: everything after the cursor, in order, as REST lists it.
    const rest = await eventsOf(r, cursor);
    assert.ok(rest.length >= 2, `events after ${cursor}: ${JSON.stringify(rest)}`);
    const replay = admin.watchEvents({ since: String(cursor), follow: true }, call);
    const got: string[] = [];
    for await (const m of replay) {
      got.push(m.event?.id ?? '');
      if (got.length === rest.length) break;
    }
    assert.deepEqual(
      got,
      rest.map((e) => e.id),
    );

    const del = await deleteOverride(r, NAME, target(S1), AUTH);
    assert.equal(del.status, 200);
  });
});
