/**
 * The admin and agent gRPC services of the real binary, called directly: api.admin_token guards the admin
 * service (opengslbctl without a token fails UNAUTHENTICATED, with --token it works, every method checks it);
 * cluster-only methods (TransferLeadership, RemoveMember) answer FAILED_PRECONDITION on a standalone node; and a
 * raw agent stream that reports every ~10 ms is throttled to min_report_interval. Addresses 127.0.28.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { credentials, status } from '@grpc/grpc-js';
import { OverwatchService } from '../../internal/gen/opengslb/v1/admin_pb.js';
import { AgentService, type ConnectResponse } from '../../internal/gen/opengslb/v1/agent_pb.js';
import { type CallOptions, createClient, type ServiceClient } from '../../internal/grpc/client.js';
import { GrpcError } from '../../internal/grpc/grpc-error.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { runCtl } from '../testkit/ctl.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { metricSum } from '../testkit/prom-text.js';
import { waitFor } from '../testkit/wait.js';

const NAME = 'app.example.com';
const AGENT_TOKEN = 'app-token';
const ADMIN_TOKEN = 'admin-secret';
const MIN_REPORT_MS = 500;

type AdminClient = ServiceClient<typeof OverwatchService>;

describe('admin and agent gRPC services', () => {
  let run: RunningOpengslb | undefined;
  let admin: AdminClient | undefined;
  const ow = (): RunningOpengslb => {
    assert.ok(run, 'overwatch started');
    return run;
  };
  const authorized = { metadata: { authorization: `Bearer ${ADMIN_TOKEN}` }, timeoutMs: 5000 };

  before(async () => {
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          api: `  admin_token: ${JSON.stringify(ADMIN_TOKEN)}`,
          regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
          domains: [{ name: NAME, regions: ['r'] }],
          cluster: {
            overwatch: {
              agent_tokens: { [NAME]: AGENT_TOKEN },
              min_report_interval: `${MIN_REPORT_MS}ms`,
            },
          },
        }),
    });
    admin = createClient(OverwatchService, `127.0.0.1:${run.ports.grpc}`, credentials.createInsecure());
  });

  after(async () => {
    admin?.$close();
    await run?.stop();
  });

  describe('admin token', () => {
    it('opengslbctl status without a token exits 1 with UNAUTHENTICATED', async () => {
      const res = await runCtl(ow(), ['status']);
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stderr, /UNAUTHENTICATED/);
      assert.equal(res.stdout, '');
    });

    it('a wrong token is refused the same way', async () => {
      const res = await runCtl(ow(), ['status', '--token', 'not-the-token']);
      assert.equal(res.code, 1, res.stdout);
      assert.match(res.stderr, /UNAUTHENTICATED: admin token not accepted/);
    });

    it('opengslbctl status --token works', async () => {
      const res = await runCtl(ow(), ['status', '--token', ADMIN_TOKEN]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /\bstandalone\b/);
      assert.match(res.stdout, /\bleader\b/);
    });
  });

  describe('admin token on every method', () => {
    // Reads and writes alike: with api.admin_token set, nothing on the admin service answers without it.
    const cases: Array<{ name: string; call: (c: AdminClient, o: CallOptions) => Promise<unknown> }> = [
      { name: 'GetClusterStatus', call: (c, o) => c.getClusterStatus({}, o) },
      { name: 'ListAgents', call: (c, o) => c.listAgents({}, o) },
      { name: 'ListOverrides', call: (c, o) => c.listOverrides({}, o) },
      {
        name: 'SetOverride',
        call: (c, o) =>
          c.setOverride({ backend: { service: NAME, address: '127.0.28.2', port: 80 }, reason: 'test' }, o),
      },
    ];
    for (const c of cases) {
      it(`${c.name} without the token is UNAUTHENTICATED`, async () => {
        assert.ok(admin);
        const client = admin;
        await assert.rejects(
          () => c.call(client, { timeoutMs: 5000 }),
          (e: unknown) => e instanceof GrpcError && e.code === status.UNAUTHENTICATED,
        );
      });
    }

    it('opengslbctl override list needs the token too', async () => {
      const without = await runCtl(ow(), ['override', 'list']);
      assert.equal(without.code, 1, without.stdout);
      assert.match(without.stderr, /UNAUTHENTICATED/);
      const withToken = await runCtl(ow(), ['override', 'list', '--token', ADMIN_TOKEN]);
      assert.equal(withToken.code, 0, withToken.stderr);
    });
  });

  it('TransferLeadership and RemoveMember on a standalone node are FAILED_PRECONDITION, never a fake success', async () => {
    assert.ok(admin);
    const client = admin;
    for (const call of [
      () => client.transferLeadership({}, authorized),
      () => client.removeMember({ nodeId: 'x' }, authorized),
    ]) {
      await assert.rejects(call, (e: unknown) => {
        assert.ok(e instanceof GrpcError, `a GrpcError, got ${String(e)}`);
        assert.equal(e.code, status.FAILED_PRECONDITION, e.toString());
        assert.match(e.message, /standalone/);
        return true;
      });
    }
  });

  it(`a raw agent reporting every ~10 ms gets one ack per ${MIN_REPORT_MS}ms; the rest are counted as throttled`, async (t) => {
    const throttled = async (): Promise<number> =>
      metricSum(await ow().metrics(), 'opengslb_agent_reports_total', { result: 'throttled' }) ?? 0;
    const before = await throttled();
    const client = createClient(AgentService, `127.0.0.1:${ow().ports.grpc}`, credentials.createInsecure());
    t.after(() => client.$close());
    const stream = client.connect({ metadata: { authorization: `Bearer ${AGENT_TOKEN}` } });
    t.after(() => stream.cancel());
    const received: ConnectResponse[] = [];
    const reading = (async () => {
      for await (const m of stream) received.push(m);
    })().catch((e: unknown) => e);

    stream.send({
      message: {
        case: 'hello',
        value: {
          agentId: 'raw-client',
          region: 'r',
          backends: [{ ref: { service: NAME, address: '127.0.28.2', port: 80 }, weight: 100 }],
        },
      },
    });
    await waitFor(
      'welcome',
      () => (received.some((m) => m.message.case === 'welcome') ? true : undefined),
      5000,
    );

    // Paced sends, not synchronisation: one report per 10 ms tick for ~1 s.
    let sent = 0;
    const startedAt = performance.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        sent += 1;
        stream.send({ message: { case: 'report', value: { sequence: BigInt(sent) } } });
        if (performance.now() - startedAt >= 1000) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const elapsedMs = performance.now() - startedAt;
    const acks = () => received.filter((m) => m.message.case === 'ack').length;
    // Every report is either acknowledged or throttled; wait until the node has judged all of them.
    await waitFor(
      `acks + throttled = ${sent}`,
      async () => (acks() + (await throttled()) - before === sent ? true : undefined),
      5000,
    );
    t.diagnostic(`${sent} reports in ${elapsedMs.toFixed(0)}ms: ${acks()} acked, ${sent - acks()} throttled`);
    const most = Math.floor(elapsedMs / MIN_REPORT_MS) + 1;
    assert.ok(
      acks() >= 2 && acks() <= most,
      `acks ${acks()}; expected 2..${most} for ${elapsedMs.toFixed(0)}ms`,
    );
    assert.ok(sent >= 50, `the pacing sent ${sent} reports`);
    const sequences = received.flatMap((m) =>
      m.message.case === 'ack' ? [Number(m.message.value.sequence)] : [],
    );
    assert.equal(sequences[0], 1, 'the first report is accepted');

    stream.send({ message: { case: 'goodbye', value: { reason: 'test done' } } });
    stream.end();
    assert.equal(await reading, undefined, 'the node ends the stream with OK after Goodbye');
  });
});
