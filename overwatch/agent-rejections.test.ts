import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { createRejectionAudit, REJECTION_QUIET_MS } from './agent-rejections.js';

describe('createRejectionAudit', () => {
  it('records one event per agent and reason per quiet period', () => {
    const proposed: Command[][] = [];
    let now = 0;
    const audit = createRejectionAudit({
      propose: async (cmds) => {
        proposed.push(cmds);
      },
      log: pino({ level: 'silent' }),
      now: () => now,
      wallClock: () => 1_700_000_000_000,
    });
    audit('a1', 'bad token');
    audit('a1', 'bad token');
    audit('a1', 'unknown domain');
    audit('', 'bad token');
    now += REJECTION_QUIET_MS - 1;
    audit('a1', 'bad token');
    now += 2;
    audit('a1', 'bad token');
    const reasons = proposed.map((c) => {
      const k = c[0]?.command;
      return k?.case === 'appendEvent' ? k.value.event?.reason : undefined;
    });
    assert.deepEqual(reasons, [
      'agent a1 rejected: bad token',
      'agent a1 rejected: unknown domain',
      'agent (no id) rejected: bad token',
      'agent a1 rejected: bad token',
    ]);
  });
});
