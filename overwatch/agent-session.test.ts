import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { type ConnectRequest, ConnectRequestSchema } from '../internal/gen/opengslb/v1/agent_pb.js';
import { PredictivePolicySchema, PredictiveState, Signal } from '../internal/gen/opengslb/v1/types_pb.js';
import { createAgentRegistry } from './agent-registry.js';
import { Code, createAgentSession } from './agent-session.js';

function setup(opts: { allowed?: string[]; minReportMs?: number } = {}) {
  const registry = createAgentRegistry();
  let now = 0;
  let throttled = 0;
  const session = createAgentSession({
    nodeId: 'n1',
    allowedServices: new Set(opts.allowed ?? ['app.example.com']),
    domains: () => new Set(['app.example.com', 'api.example.com']),
    policy: () => create(PredictivePolicySchema, { enabled: true }),
    minReportIntervalMs: () => opts.minReportMs ?? 500,
    registry,
    nowMs: () => now,
    wall: () => new Date(now),
    onThrottled: () => {
      throttled++;
    },
  });
  return { registry, session, advance: (ms: number) => (now += ms), throttled: () => throttled };
}

const hello = (service = 'app.example.com', address = '10.0.0.1'): ConnectRequest =>
  create(ConnectRequestSchema, {
    message: {
      case: 'hello',
      value: {
        agentId: 'web-1',
        hostname: 'web-1',
        region: 'east',
        version: 't',
        backends: [{ ref: { service, address, port: 80 }, weight: 100 }],
      },
    },
  });
const report = (seq: number, healthy = true): ConnectRequest =>
  create(ConnectRequestSchema, {
    message: {
      case: 'report',
      value: {
        sequence: BigInt(seq),
        cpuPercent: 91,
        checks: [{ backend: { service: 'app.example.com', address: '10.0.0.1', port: 80 }, healthy }],
        signals: [
          {
            signal: Signal.CPU,
            state: PredictiveState.BLEED,
            value: 91,
            threshold: 80,
            reason: 'cpu 91% >= 80%',
          },
        ],
      },
    },
  });

describe('createAgentSession', () => {
  it('welcomes a valid hello and acknowledges reports', () => {
    const s = setup();
    const w = s.session.receive(hello());
    assert.equal(w.send[0]?.message.case, 'welcome');
    assert.equal(w.end, undefined);
    s.advance(1000);
    const a = s.session.receive(report(1));
    assert.equal(a.send[0]?.message.case, 'ack');
    const rec = s.registry.get('web-1');
    assert.equal(rec?.report?.signals[0]?.state, 'bleed');
    assert.equal(rec?.claims.get('app.example.com|10.0.0.1:80')?.healthy, true);
  });
  it('requires hello first', () => {
    const s = setup();
    assert.deepEqual(s.session.receive(report(1)).end?.code, Code.FAILED_PRECONDITION);
  });
  it('rejects a service that is not configured', () => {
    const s = setup({ allowed: ['nope.example.com'] });
    const end = s.session.receive(hello('nope.example.com')).end;
    assert.equal(end?.code, Code.INVALID_ARGUMENT);
    assert.match(end?.message ?? '', /"nope.example.com" is not a configured domain/);
  });
  it('denies a backend of a service the token does not cover, naming it', () => {
    const s = setup();
    const end = s.session.receive(hello('api.example.com')).end;
    assert.equal(end?.code, Code.PERMISSION_DENIED);
    assert.match(end?.message ?? '', /does not cover service "api.example.com"/);
    assert.equal(s.registry.get('web-1'), undefined);
  });
  it('rejects bad addresses', () => {
    assert.equal(
      setup().session.receive(hello('app.example.com', 'web-1.local')).end?.code,
      Code.INVALID_ARGUMENT,
    );
  });
  it('throttles reports faster than the minimum interval', () => {
    const s = setup({ minReportMs: 500 });
    s.session.receive(hello());
    s.advance(1000);
    assert.equal(s.session.receive(report(1)).send.length, 1);
    s.advance(100);
    const first = s.session.receive(report(2)).send;
    assert.deepEqual(
      first.map((m) => m.message.case),
      ['directive'],
      'dropped without ack; the agent is told the floor once',
    );
    s.advance(50);
    assert.equal(s.session.receive(report(3)).send.length, 0, 'later drops are silent');
    assert.equal(s.throttled(), 2);
    s.advance(350);
    assert.equal(s.session.receive(report(4)).send.length, 1);
  });
  it('deregisters at once on goodbye, but only disconnects when the stream just ends', () => {
    const a = setup();
    a.session.receive(hello());
    const bye = a.session.receive(
      create(ConnectRequestSchema, { message: { case: 'goodbye', value: { reason: 'stop' } } }),
    );
    assert.deepEqual(bye.end, { code: 0, message: 'goodbye' });
    assert.equal(a.registry.get('web-1'), undefined);

    const b = setup();
    b.session.receive(hello());
    b.session.closed();
    assert.equal(b.registry.get('web-1')?.connected, false);
  });
});
