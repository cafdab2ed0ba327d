/**
 * The audit trail of refused agents: one event per agent and reason per ten minutes, because a misconfigured
 * agent retries every few seconds and the event log is replicated (every event is a Raft entry).
 */
import type { Logger } from 'pino';
import type { Command } from '../internal/gen/opengslb/v1/fsm_pb.js';
import { command } from './fsm.js';

/** How long one agent's same refusal stays quiet after it was recorded, in ms. */
export const REJECTION_QUIET_MS = 600_000;
/** Remembered (agent, reason) pairs before the memory is dropped (a flood of random ids must not grow it). */
const MAX_REMEMBERED = 1000;

/** Options of {@link createRejectionAudit}. */
export interface RejectionAuditOptions {
  propose(cmds: Command[]): Promise<unknown>;
  log: Logger;
  /** Monotonic ms (performance.now in production). */
  now(): number;
  /** Wall-clock ms for the event's timestamp. */
  wallClock(): number;
}

/** Returns the agent service's onHelloRejected: records the refusal as an event unless it was recently. */
export function createRejectionAudit(o: RejectionAuditOptions): (agentId: string, reason: string) => void {
  const recorded = new Map<string, number>();
  return (agentId, reason) => {
    const key = `${agentId}|${reason}`;
    const now = o.now();
    if ((recorded.get(key) ?? Number.NEGATIVE_INFINITY) > now - REJECTION_QUIET_MS) return;
    if (recorded.size >= MAX_REMEMBERED) recorded.clear();
    recorded.set(key, now);
    o.propose([
      command(o.wallClock(), {
        case: 'appendEvent',
        value: {
          event: {
            reason: `agent ${agentId || '(no id)'} rejected: ${reason}`,
            source: 'agent',
            details: { agent: agentId },
          },
        },
      }),
    ]).catch((e: unknown) => o.log.error({ err: e }, 'recording agent rejection failed'));
  };
}
