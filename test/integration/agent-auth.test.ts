/**
 * Agent admission: a wrong token never registers and the agent says UNAUTHENTICATED once however often it
 * retries; a token for app.example.com cannot announce api.example.com (PERMISSION_DENIED naming the
 * service); both are counted in opengslb_agent_rejected_total{code}. Addresses 127.0.23.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AgentLogLine,
  agentPolicy,
  atLeast,
  type RunningAgent,
  startAgent,
  stopAgents,
  waitLogged,
} from '../testkit/agent.js';
import { FAST_CHECK, gslbConfig } from '../testkit/config.js';
import { agentNamed, agentsOf } from '../testkit/observe-agents.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';
import { metricSum } from '../testkit/prom-text.js';
import { waitFor } from '../testkit/wait.js';

const APP = 'app.example.com';
const API = 'api.example.com';
const TOKENS = { [APP]: 'app-token', [API]: 'api-token' };
/** Failed attempts the test waits for, so "once" is measured against real retries. */
const ATTEMPTS = 3;

/** Warn-or-worse lines and debug retry lines whose error names `code`. */
function mentions(lines: AgentLogLine[], code: string): { loud: AgentLogLine[]; retries: AgentLogLine[] } {
  const has = (l: AgentLogLine) => String(l.err ?? '').startsWith(`${code}: `);
  return {
    loud: lines.filter((l) => atLeast(l, 'warn') && has(l)),
    retries: lines.filter((l) => l.msg === 'retrying overwatch connection' && has(l)),
  };
}

describe('agent admission', () => {
  let run: RunningOpengslb | undefined;
  const agents: RunningAgent[] = [];
  const ow = (): RunningOpengslb => {
    assert.ok(run, 'overwatch started');
    return run;
  };
  const rejected = async (code: string): Promise<number> =>
    metricSum(await ow().metrics(), 'opengslb_agent_rejected_total', { code }) ?? 0;
  const agent = (id: string, token: string, service: string, address: string): RunningAgent => {
    const a = startAgent({
      config: {
        id,
        region: 'r',
        overwatch: [`127.0.0.1:${ow().ports.grpc}`],
        token,
        backends: [{ service, address, port: 80 }],
      },
    });
    agents.push(a);
    return a;
  };

  before(async () => {
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [{ name: 'r', servers: [], health_check: FAST_CHECK }],
          domains: [
            { name: APP, regions: ['r'] },
            { name: API, regions: ['r'] },
          ],
          cluster: { overwatch: agentPolicy(TOKENS) },
        }),
    });
  });

  after(async () => {
    await stopAgents(agents);
    await run?.stop();
  });

  it(`a wrong token never registers; UNAUTHENTICATED is logged once over ${ATTEMPTS} attempts`, async () => {
    const before = await rejected('UNAUTHENTICATED');
    const a = agent('intruder', 'not-a-token', APP, '127.0.23.2');
    // The first failure is logged at warn, each identical retry at debug.
    await waitLogged(a, 'retrying overwatch connection', 15_000, ATTEMPTS - 1);
    const { loud, retries } = mentions(a.logs(), 'UNAUTHENTICATED');
    assert.equal(loud.length, 1, `one warn line naming UNAUTHENTICATED:\n${a.output()}`);
    assert.equal(loud[0]?.msg, 'cannot connect to overwatch');
    assert.ok(retries.length >= ATTEMPTS - 1, `retries name the code too:\n${a.output()}`);
    assert.equal(a.logged('connected to overwatch').length, 0);
    assert.equal(await agentNamed(ow(), 'intruder'), undefined, 'not in /api/v1/agents');
    await waitFor(
      `opengslb_agent_rejected_total{code="UNAUTHENTICATED"} >= ${before + ATTEMPTS}`,
      async () => ((await rejected('UNAUTHENTICATED')) >= before + ATTEMPTS ? true : undefined),
      3000,
    );
  });

  it('a token for another service gets PERMISSION_DENIED naming the service it announced', async () => {
    const before = await rejected('PERMISSION_DENIED');
    // app.example.com's token, announcing api.example.com.
    const a = agent('overreach', TOKENS[APP], API, '127.0.23.3');
    const [line] = await waitLogged(a, 'cannot connect to overwatch', 10_000);
    const err = String(line?.err);
    assert.ok(err.startsWith('PERMISSION_DENIED: '), `names the code: ${err}`);
    assert.ok(err.includes(`"${API}"`), `names the service: ${err}`);
    assert.equal(a.logged('connected to overwatch').length, 0);
    assert.equal(await agentNamed(ow(), 'overreach'), undefined, 'not in /api/v1/agents');
    await waitFor(
      'opengslb_agent_rejected_total{code="PERMISSION_DENIED"} to grow',
      async () => ((await rejected('PERMISSION_DENIED')) > before ? true : undefined),
      3000,
    );
    assert.deepEqual(await agentsOf(ow()), [], 'no agent registered at all');
  });
});
