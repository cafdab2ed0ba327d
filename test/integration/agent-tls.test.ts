/**
 * TLS on the gRPC port with real binaries: an agent trusting the overwatch's CA connects, one trusting another
 * CA does not; with client_ca_file (mutual TLS) an agent presenting a client certificate connects and one
 * without is refused. Skipped with the reason when openssl cannot run. Addresses 127.0.24.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  createTlsFixtures,
  opensslMissing,
  type TlsFixtures,
} from '../../internal/grpc/testkit/tls-fixtures.js';
import {
  type AgentTlsYaml,
  agentPolicy,
  type RunningAgent,
  startAgent,
  stopAgents,
  waitConnected,
  waitLogged,
} from '../testkit/agent.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { ctlJson, runCtl } from '../testkit/ctl.js';
import { agentNamed } from '../testkit/observe-agents.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';

const NAME = 'app.example.com';
const TOKEN = 'app-token';
const skip = opensslMissing();

describe('gRPC TLS between agents and the overwatch', { skip }, () => {
  let pki: TlsFixtures | undefined;
  const runs: RunningOpengslb[] = [];
  const agents: RunningAgent[] = [];

  before(() => {
    pki = createTlsFixtures();
  });

  after(async () => {
    await stopAgents(agents);
    await Promise.all(runs.map((r) => r.stop()));
    pki?.remove();
  });

  /** An overwatch serving gRPC with the fixture's server certificate, and mutual TLS when `mutual`. */
  async function overwatch(mutual: boolean): Promise<RunningOpengslb> {
    assert.ok(pki);
    const tls = {
      cert_file: pki.serverCert,
      key_file: pki.serverKey,
      ...(mutual ? { client_ca_file: pki.caCert } : {}),
    };
    const run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
          domains: [{ name: NAME, regions: ['r'] }],
          grpc: `  tls: ${JSON.stringify(tls)}`,
          cluster: { overwatch: agentPolicy({ [NAME]: TOKEN }) },
        }),
    });
    runs.push(run);
    return run;
  }

  function agent(run: RunningOpengslb, id: string, address: string, tls: AgentTlsYaml): RunningAgent {
    const a = startAgent({
      config: {
        id,
        region: 'r',
        overwatch: [`127.0.0.1:${run.ports.grpc}`],
        token: TOKEN,
        tls,
        backends: [{ service: NAME, address, port: 80 }],
      },
    });
    agents.push(a);
    return a;
  }

  /** The agent failed to connect, retried, logged it once, and the overwatch never listed it. */
  async function refused(run: RunningOpengslb, a: RunningAgent): Promise<string> {
    await waitLogged(a, 'retrying overwatch connection', 10_000);
    const [line, ...again] = a.logged('cannot connect to overwatch');
    assert.equal(again.length, 0, `identical failures are logged once:\n${a.output()}`);
    assert.equal(a.logged('connected to overwatch').length, 0, a.output());
    assert.equal(await agentNamed(run, a.id), undefined, `${a.id} is not in /api/v1/agents`);
    return String(line?.err);
  }

  describe('server TLS', () => {
    let run: RunningOpengslb | undefined;
    before(async () => {
      run = await overwatch(false);
    });

    it('an agent with tls.ca_file of the signing CA connects and registers', async () => {
      assert.ok(run && pki);
      const a = agent(run, 'trusting', '127.0.24.2', { ca_file: pki.caCert });
      await waitConnected(a);
      assert.equal((await agentNamed(run, 'trusting'))?.connected, true);
    });

    it('an agent trusting another CA cannot connect', async (t) => {
      assert.ok(run && pki);
      const err = await refused(run, agent(run, 'suspicious', '127.0.24.3', { ca_file: pki.otherCaCert }));
      t.diagnostic(err);
      assert.match(err, /^UNAVAILABLE: /, err);
    });

    it('opengslbctl reaches the admin service over TLS with --ca-file, and not in plaintext', async () => {
      assert.ok(run && pki);
      const json = (await ctlJson(run, ['status', '--ca-file', pki.caCert])) as { mode?: string };
      assert.equal(json.mode, 'standalone');
      const plain = await runCtl(run, ['status', '--timeout', '2000']);
      assert.equal(plain.code, 1, plain.stdout);
      assert.match(plain.stderr, /UNAVAILABLE|DEADLINE_EXCEEDED/);
    });
  });

  describe('mutual TLS (client_ca_file)', () => {
    let run: RunningOpengslb | undefined;
    before(async () => {
      run = await overwatch(true);
    });

    it('an agent presenting a client certificate connects and registers', async () => {
      assert.ok(run && pki);
      const a = agent(run, 'certified', '127.0.24.4', {
        ca_file: pki.caCert,
        cert_file: pki.clientCert,
        key_file: pki.clientKey,
      });
      await waitConnected(a);
      assert.equal((await agentNamed(run, 'certified'))?.connected, true);
    });

    it('an agent without a client certificate is refused', async (t) => {
      assert.ok(run && pki);
      const err = await refused(run, agent(run, 'anonymous', '127.0.24.5', { ca_file: pki.caCert }));
      t.diagnostic(err);
      assert.match(err, /^UNAVAILABLE: /, err);
    });
  });
});
