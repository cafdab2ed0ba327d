import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { OverrideAction } from '../internal/gen/opengslb/v1/admin_pb.js';
import { type Command, CommandSchema } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { BackendStatus } from '../internal/gen/opengslb/v1/types_pb.js';
import {
  COMMAND_VERSION,
  command,
  createFsm,
  type EventRecord,
  type Fsm,
  idKey,
  MAX_EVENTS,
  UnsupportedCommandError,
} from './fsm.js';
import { timestampFromDate } from './proto-convert.js';

const T0 = Date.UTC(2026, 0, 1);
const A = { service: 'app.example.com', address: '10.0.0.1', port: 80 };
const B = { service: 'app.example.com', address: '10.0.0.2', port: 80 };
const V6 = { service: 'app.example.com', address: '2001:db8::1', port: 443 };

type Ref = typeof A;

function setBackend(
  t: number,
  ref: Ref,
  status: BackendStatus,
  weightFraction: number,
  reason = 'why',
  extra: { rampStartMs?: number; rampFrom?: number; details?: Record<string, string> } = {},
): Command {
  return command(t, {
    case: 'setBackend',
    value: {
      decision: {
        backend: ref,
        status,
        weightFraction,
        reason,
        source: 'agent',
        ...(extra.rampStartMs === undefined
          ? {}
          : { rampStart: timestampFromDate(new Date(extra.rampStartMs)), rampFrom: extra.rampFrom ?? 0 }),
        details: extra.details ?? {},
      },
    },
  });
}

function setOverride(t: number, ref: Ref, action: OverrideAction, expiresMs?: number): Command {
  return command(t, {
    case: 'setOverride',
    value: {
      override: {
        backend: ref,
        action,
        reason: 'maintenance',
        user: 'alice',
        created: timestampFromDate(new Date(t)),
        ...(expiresMs === undefined ? {} : { expires: timestampFromDate(new Date(expiresMs)) }),
      },
    },
  });
}

function registerAgent(t: number, id: string, refs: Ref[]): Command {
  return command(t, {
    case: 'registerAgent',
    value: {
      agentId: id,
      region: 'east',
      tokenFingerprint: `fp-${id}`,
      backends: refs.map((ref) => ({
        ref,
        weight: 100,
        healthCheck: { type: 'http', path: '/health', host: 'app', expectedStatus: '200-299' },
      })),
    },
  });
}

/** Events without ids, for comparisons that do not care how many came before. */
const render = (es: readonly EventRecord[]) =>
  es.map((e) => ({ from: e.from, to: e.to, source: e.source, backend: e.backend, reason: e.reason }));

describe('fsm apply', () => {
  interface Case {
    name: string;
    /** Commands applied first; their events are not checked. */
    before: Command[];
    cmd: Command;
    events: ReturnType<typeof render>;
    check?: (f: Fsm) => void;
  }
  const t = T0 + 5000;
  const cases: Case[] = [
    {
      name: 'setBackend on a new backend records from "" to its status',
      before: [],
      cmd: setBackend(t, A, BackendStatus.HEALTHY, 1, 'agent a reports healthy'),
      events: [
        {
          from: '',
          to: 'healthy',
          source: 'agent',
          backend: '10.0.0.1:80',
          reason: 'agent a reports healthy',
        },
      ],
      check: (f) => {
        const d = f.state().decisions.get(idKey(A));
        assert.deepEqual(
          { status: d?.status, weightFraction: d?.weightFraction, changedMs: d?.changedMs },
          { status: 'healthy', weightFraction: 1, changedMs: t },
        );
      },
    },
    {
      name: 'setBackend with a new status records from/to',
      before: [setBackend(T0, A, BackendStatus.HEALTHY, 1)],
      cmd: setBackend(t, A, BackendStatus.VETOED, 0, 'vetoed'),
      events: [{ from: 'healthy', to: 'vetoed', source: 'agent', backend: '10.0.0.1:80', reason: 'vetoed' }],
    },
    {
      name: 'setBackend with a new weight only records healthy -> healthy',
      before: [setBackend(T0, A, BackendStatus.HEALTHY, 1)],
      cmd: setBackend(t, A, BackendStatus.HEALTHY, 0.7, 'bleeding'),
      events: [
        { from: 'healthy', to: 'healthy', source: 'agent', backend: '10.0.0.1:80', reason: 'bleeding' },
      ],
      check: (f) => assert.equal(f.state().events.at(-1)?.details['weight_fraction'], '0.70'),
    },
    {
      name: 'setBackend changing only the reason records no event but keeps the new reason and changedMs',
      before: [setBackend(T0, A, BackendStatus.HEALTHY, 1, 'old')],
      cmd: setBackend(t, A, BackendStatus.HEALTHY, 1, 'new'),
      events: [],
      check: (f) => {
        const d = f.state().decisions.get(idKey(A));
        assert.deepEqual({ reason: d?.reason, changedMs: d?.changedMs }, { reason: 'new', changedMs: T0 });
      },
    },
    {
      name: 'setBackend clamps the weight fraction to 0..1',
      before: [],
      cmd: setBackend(t, A, BackendStatus.HEALTHY, 1.7),
      events: [{ from: '', to: 'healthy', source: 'agent', backend: '10.0.0.1:80', reason: 'why' }],
      check: (f) => assert.equal(f.state().decisions.get(idKey(A))?.weightFraction, 1),
    },
    {
      name: 'setBackend of an IPv6 backend writes [addr]:port',
      before: [],
      cmd: setBackend(t, V6, BackendStatus.UNHEALTHY, 0),
      events: [{ from: '', to: 'unhealthy', source: 'agent', backend: '[2001:db8::1]:443', reason: 'why' }],
    },
    {
      name: 'removeBackend forgets the decision and records from -> ""',
      before: [setBackend(T0, A, BackendStatus.HEALTHY, 1)],
      cmd: command(t, { case: 'removeBackend', value: { backend: A, reason: 'gone from config' } }),
      events: [
        { from: 'healthy', to: '', source: 'config', backend: '10.0.0.1:80', reason: 'gone from config' },
      ],
      check: (f) => assert.equal(f.state().decisions.has(idKey(A)), false),
    },
    {
      name: 'removeBackend of an unknown backend is a no-op',
      before: [],
      cmd: command(t, { case: 'removeBackend', value: { backend: A, reason: 'x' } }),
      events: [],
    },
    {
      name: 'setOverride stores who, why and expiry and records an override event',
      before: [],
      cmd: setOverride(t, A, OverrideAction.DRAIN, t + 60_000),
      events: [
        {
          from: '',
          to: '',
          source: 'override',
          backend: '10.0.0.1:80',
          reason: 'override drain by alice: maintenance',
        },
      ],
      check: (f) =>
        assert.deepEqual(f.state().overrides.get(idKey(A)), {
          ...A,
          action: 'drain',
          reason: 'maintenance',
          user: 'alice',
          createdMs: t,
          expiresMs: t + 60_000,
        }),
    },
    {
      name: 'clearOverride by an operator names the operator',
      before: [setOverride(T0, A, OverrideAction.FORCE_HEALTHY)],
      cmd: command(t, { case: 'clearOverride', value: { backend: A, user: 'bob', reason: 'cleared' } }),
      events: [
        { from: '', to: '', source: 'override', backend: '10.0.0.1:80', reason: 'override cleared by bob' },
      ],
      check: (f) => assert.equal(f.state().overrides.size, 0),
    },
    {
      name: 'clearOverride with reason "expired" records the expiry',
      before: [setOverride(T0, A, OverrideAction.FORCE_UNHEALTHY, T0 + 1000)],
      cmd: command(t, { case: 'clearOverride', value: { backend: A, user: 'system', reason: 'expired' } }),
      events: [{ from: '', to: '', source: 'override', backend: '10.0.0.1:80', reason: 'override expired' }],
    },
    {
      name: 'clearOverride without an override is a no-op',
      before: [],
      cmd: command(t, { case: 'clearOverride', value: { backend: A, user: 'bob', reason: 'cleared' } }),
      events: [],
    },
    {
      name: 'registerAgent stores the registration without an event',
      before: [],
      cmd: registerAgent(t, 'a1', [A]),
      events: [],
      check: (f) =>
        assert.deepEqual(f.state().agents.get('a1'), {
          id: 'a1',
          region: 'east',
          tokenFingerprint: 'fp-a1',
          backends: [
            {
              ...A,
              weight: 100,
              check: { type: 'http', path: '/health', host: 'app', expectedStatus: '200-299' },
            },
          ],
        }),
    },
    {
      name: 'deregisterAgent drops the decisions only it announced',
      before: [
        registerAgent(T0, 'a1', [A, B]),
        registerAgent(T0, 'a2', [B]),
        setBackend(T0, A, BackendStatus.HEALTHY, 1),
        setBackend(T0, B, BackendStatus.HEALTHY, 1),
      ],
      cmd: command(t, { case: 'deregisterAgent', value: { agentId: 'a1', reason: 'goodbye' } }),
      events: [
        {
          from: 'healthy',
          to: '',
          source: 'agent',
          backend: '10.0.0.1:80',
          reason: 'agent a1 deregistered: goodbye',
        },
      ],
      check: (f) =>
        assert.deepEqual(
          { agents: [...f.state().agents.keys()], decisions: [...f.state().decisions.keys()] },
          { agents: ['a2'], decisions: [idKey(B)] },
        ),
    },
    {
      name: 'deregisterAgent of an unknown agent is a no-op',
      before: [],
      cmd: command(t, { case: 'deregisterAgent', value: { agentId: 'nobody', reason: 'x' } }),
      events: [],
    },
    {
      name: 'appendEvent for a whole service has an empty backend',
      before: [],
      cmd: command(t, {
        case: 'appendEvent',
        value: { event: { backend: { service: A.service }, reason: 'panic threshold', source: 'panic' } },
      }),
      events: [{ from: '', to: '', source: 'panic', backend: '', reason: 'panic threshold' }],
    },
    {
      name: 'appendEvent keeps from/to statuses',
      before: [],
      cmd: command(t, {
        case: 'appendEvent',
        value: {
          event: {
            backend: A,
            from: BackendStatus.HEALTHY,
            to: BackendStatus.HEALTHY,
            reason: 'disagree',
            source: 'veto',
          },
        },
      }),
      events: [
        { from: 'healthy', to: 'healthy', source: 'veto', backend: '10.0.0.1:80', reason: 'disagree' },
      ],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = createFsm();
      for (const cmd of c.before) f.apply(cmd);
      const before = f.state().events.length;
      const returned = f.apply(c.cmd);
      assert.deepEqual(render(returned), c.events, 'events returned by apply');
      assert.deepEqual(render(f.state().events.slice(before)), c.events, 'events appended to the trail');
      // apply reads no clock: every event is stamped with the command's time.
      assert.deepEqual(
        returned.map((e) => e.timeMs),
        c.events.map(() => t),
        'event times come from the command',
      );
      c.check?.(f);
    });
  }
});

describe('fsm audit trail', () => {
  it(`keeps the newest ${MAX_EVENTS} events and keeps counting ids`, () => {
    const f = createFsm();
    const n = MAX_EVENTS + 5;
    for (let i = 0; i < n; i++) {
      f.apply(
        command(T0 + i, {
          case: 'appendEvent',
          value: { event: { backend: { service: 's' }, reason: `e${i + 1}`, source: 'panic' } },
        }),
      );
    }
    const es = f.state().events;
    assert.deepEqual(
      { length: es.length, firstId: es[0]?.id, lastId: es.at(-1)?.id, next: f.state().nextEventId },
      { length: MAX_EVENTS, firstId: 6, lastId: n, next: n + 1 },
    );
  });
});

describe('fsm versioning', () => {
  const cases: Array<{ name: string; cmd: () => Command }> = [
    {
      name: 'a newer command version throws',
      cmd: () => create(CommandSchema, { ...command(T0, { case: 'appendEvent', value: {} }), version: 2 }),
    },
    {
      name: 'version 0 (unset) throws',
      cmd: () => create(CommandSchema, { ...command(T0, { case: 'appendEvent', value: {} }), version: 0 }),
    },
    {
      name: 'a command without a kind throws',
      cmd: () => create(CommandSchema, { version: COMMAND_VERSION }),
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const f = createFsm();
      assert.throws(() => f.apply(c.cmd()), UnsupportedCommandError);
      assert.equal(f.state().events.length, 0, 'nothing applied');
    });
  }

  it('a command kind written by a newer build (unknown oneof field) throws', () => {
    const known = toBinary(CommandSchema, create(CommandSchema, { version: COMMAND_VERSION }));
    // Tag of field 30, wire type 2 ((30 << 3) | 2 = 242, varint 0xf2 0x01), length 0: a oneof member this
    // build has no name for.
    const bytes = new Uint8Array([...known, 0xf2, 0x01, 0x00]);
    const cmd = fromBinary(CommandSchema, bytes);
    assert.equal(cmd.command.case, undefined);
    assert.throws(
      () => createFsm().apply(cmd),
      (e: unknown) => {
        assert.ok(e instanceof UnsupportedCommandError);
        assert.equal(e.code, 'UNSUPPORTED_COMMAND');
        return true;
      },
    );
  });
});

describe('fsm snapshot', () => {
  function populated(): Fsm {
    const f = createFsm();
    const cmds = [
      registerAgent(T0, 'a1', [A, V6]),
      registerAgent(T0 + 1, 'a2', [B]),
      setBackend(T0 + 2, A, BackendStatus.HEALTHY, 1, 'agent a1 reports healthy'),
      setBackend(T0 + 3, A, BackendStatus.HEALTHY, 0.6, 'predictive bleed', {
        rampStartMs: T0 + 3,
        rampFrom: 1,
        details: { ramp: 'down', ramp_rate: '1', ramp_duration_ms: '60000' },
      }),
      // Reason-only change: changedMs stays at the previous change.
      setBackend(T0 + 4, A, BackendStatus.HEALTHY, 0.6, 'predictive bleed (cpu)', {
        rampStartMs: T0 + 3,
        rampFrom: 1,
        details: { ramp: 'down', ramp_rate: '1', ramp_duration_ms: '60000' },
      }),
      setBackend(T0 + 5, B, BackendStatus.VETOED, 0, 'external validation failing'),
      setBackend(T0 + 6, V6, BackendStatus.STALE, 0, 'agent a1 stale'),
      setOverride(T0 + 7, B, OverrideAction.FORCE_HEALTHY),
      setOverride(T0 + 8, V6, OverrideAction.DRAIN, T0 + 3_600_000),
      command(T0 + 9, {
        case: 'appendEvent',
        value: {
          event: { backend: { service: A.service }, reason: 'panic', source: 'panic', details: { k: 'v' } },
        },
      }),
    ];
    for (const c of cmds) f.apply(c);
    return f;
  }

  it('restore(snapshot()) gives a deep-equal state', () => {
    const f = populated();
    const g = createFsm();
    g.restore(f.snapshot());
    assert.deepEqual(g.state(), f.state());
  });

  it('a restored state machine continues identically (event ids, decisions)', () => {
    const f = populated();
    const g = createFsm();
    g.restore(f.snapshot());
    const next = [
      setBackend(T0 + 100, B, BackendStatus.HEALTHY, 1, 'recovered'),
      command(T0 + 101, { case: 'deregisterAgent', value: { agentId: 'a1', reason: 'gone' } }),
    ];
    for (const c of next) assert.deepEqual(g.apply(c), f.apply(c));
    assert.deepEqual(g.state(), f.state());
  });

  it('restore replaces the previous state entirely', () => {
    const g = createFsm();
    g.apply(setBackend(T0, B, BackendStatus.HEALTHY, 1));
    g.restore(createFsm().snapshot());
    assert.deepEqual(
      { decisions: g.state().decisions.size, events: g.state().events.length, next: g.state().nextEventId },
      { decisions: 0, events: 0, next: 1 },
    );
  });
});
