import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { create } from '@bufbuild/protobuf';
import pino from 'pino';
import { createAsyncQueue } from '../internal/async/queue.js';
import { type ConnectResponse, ConnectResponseSchema } from '../internal/gen/opengslb/v1/agent_pb.js';
import { type AgentStream, backoffMs, createStreamClient, MAX_IMMEDIATE_REDIRECTS } from './stream-client.js';

const silent = pino({ level: 'silent' });

/** An in-memory overwatch end: records what the agent sent, lets the test answer or break the stream. */
function pipe(address: string) {
  const toAgent = createAsyncQueue<ConnectResponse>();
  const sent: string[] = [];
  const stream: AgentStream = {
    send: (r) => {
      sent.push(String(r.message?.case));
      return true;
    },
    end: () => toAgent.close(),
    cancel: () => toAgent.fail(new Error('cancelled')),
    [Symbol.asyncIterator]: () => toAgent[Symbol.asyncIterator](),
  };
  return {
    address,
    stream,
    sent,
    welcome: () =>
      toAgent.push(
        create(ConnectResponseSchema, { message: { case: 'welcome', value: { nodeId: address } } }),
      ),
    redirect: (to: string) =>
      toAgent.push(
        create(ConnectResponseSchema, {
          message: { case: 'directive', value: { directive: { case: 'reconnect', value: { address: to } } } },
        }),
      ),
    fail: (why: string) => toAgent.fail(new Error(why)),
  };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('backoffMs', () => {
  const cases: Array<[number, number, number]> = [
    [0, 1, 500],
    [1, 1, 1000],
    [3, 1, 4000],
    [10, 1, 30_000],
    [100, 1, 30_000],
    [5, 0, 50],
  ];
  for (const [attempt, r, want] of cases) {
    it(`attempt ${attempt} random ${r} -> ${want}ms`, () =>
      assert.equal(backoffMs(attempt, 500, 30_000, r), want));
  }
});

/** A stream client over in-memory pipes (one per attempt, in `opened`), with 1 ms backoff and no jitter. */
function startable(addresses: string[]) {
  const opened: ReturnType<typeof pipe>[] = [];
  const client = createStreamClient({
    addresses,
    open: (address) => {
      const p = pipe(address);
      opened.push(p);
      return p.stream;
    },
    hello: () => ({ case: 'hello', value: { agentId: 'x' } }),
    log: silent,
    random: () => 0,
    baseBackoffMs: 1,
  });
  return { opened, client };
}

describe('createStreamClient', () => {
  it('says hello, fails over to the next address, follows a redirect and says goodbye', async () => {
    const { opened, client } = startable(['a:1', 'b:1']);
    client.start();
    await until('first stream', () => opened.length === 1);
    assert.deepEqual(opened[0]?.sent, ['hello']);
    assert.equal(client.sendReport({ case: 'report', value: {} }), false, 'no report before Welcome');
    opened[0]?.fail('connection refused');
    await until('failover to b', () => opened.length === 2);
    assert.equal(opened[1]?.address, 'b:1');
    opened[1]?.welcome();
    await until('connected', () => client.connected());
    assert.equal(client.sendReport({ case: 'report', value: {} }), true);
    opened[1]?.redirect('leader:9');
    await until('redirected', () => opened.length === 3);
    assert.equal(opened[2]?.address, 'leader:9');
    opened[2]?.welcome();
    await until('connected to leader', () => client.connected());
    await client.stop(true);
    assert.deepEqual(opened[2]?.sent, ['hello', 'goodbye']);
    assert.equal(client.reconnects(), 1, 'a redirect is not a failure');
  });

  it('backs off after a few redirects without a Welcome (nodes disagreeing about the leader)', async () => {
    const { opened, client } = startable(['a:1']);
    client.start();
    // a and b each claim the other leads: MAX_IMMEDIATE_REDIRECTS hops are followed at once, the next one
    // counts as a failed attempt (backoff), and the agent still ends up where the last redirect pointed.
    for (let hop = 0; hop <= MAX_IMMEDIATE_REDIRECTS; hop++) {
      await until(`stream ${hop + 1}`, () => opened.length === hop + 1);
      opened[hop]?.redirect(hop % 2 === 0 ? 'b:1' : 'a:1');
    }
    const last = MAX_IMMEDIATE_REDIRECTS + 1;
    await until('stream after the backoff', () => opened.length === last + 1);
    assert.equal(client.reconnects(), 1, 'the hop past the limit backed off once');
    assert.equal(opened[last]?.address, last % 2 === 1 ? 'b:1' : 'a:1', 'follows the last redirect');
    opened[last]?.welcome();
    await until('connected', () => client.connected());
    await client.stop(false);
  });
});
