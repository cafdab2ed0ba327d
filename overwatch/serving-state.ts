/**
 * What the node currently serves: configuration, the backend list (static + agents registered in the state
 * machine), each backend's decided verdict and the answer table derived from them. Rebuilt after every applied
 * command and every reload; queries only read (DESIGN.md section 4: the DNS hot path reads the answer table).
 */
import type { OverwatchConfig } from '../internal/config/overwatch-schema.js';
import { type AnswerTable, buildAnswerTable } from './answer-table.js';
import type { BackendVerdict } from './backend-status.js';
import type { Backend } from './backends.js';
import { type FsmState, idKey } from './fsm.js';
import { currentBackends } from './observations.js';

export interface ServingState {
  config(): OverwatchConfig;
  table(): AnswerTable;
  backends(): readonly Backend[];
  verdict(b: Backend): BackendVerdict;
  /** Recomputes backends and the answer table from the state machine. */
  rebuild(): void;
  /** Adopts a new configuration (SOA serial bumps) and rebuilds. */
  setConfig(next: OverwatchConfig): void;
}

/** A backend is in answers when decided healthy with a non-zero weight share. */
function serves(v: BackendVerdict): boolean {
  return v.status === 'healthy' && v.weightFraction > 0;
}

export function createServingState(opts: {
  config: OverwatchConfig;
  fsm: () => FsmState;
  serial: number;
}): ServingState {
  let config = opts.config;
  let serial = opts.serial;
  let backends: Backend[] = [];
  let table: AnswerTable | undefined;

  const verdict = (b: Backend): BackendVerdict => {
    const d = opts.fsm().decisions.get(idKey(b));
    if (d === undefined) {
      return {
        status: 'unknown',
        reason: 'no decision yet',
        source: 'external',
        lastChange: undefined,
        weightFraction: 0,
      };
    }
    return {
      status: d.status,
      reason: d.reason,
      source: d.source,
      lastChange: new Date(d.changedMs),
      weightFraction: d.weightFraction,
    };
  };

  function rebuild(): void {
    backends = currentBackends(config, opts.fsm());
    // Answers see effective weights: configured weight times the decided share (bleeding, partial veto).
    const effective = backends.map((b) => {
      const share = verdict(b).weightFraction;
      return { ...b, weight: b.weight * share, share };
    });
    table = buildAnswerTable(config, effective, (b) => serves(verdict(b)), serial, table);
  }
  rebuild();

  return {
    config: () => config,
    table: () => table as AnswerTable,
    backends: () => backends,
    verdict,
    rebuild,
    setConfig(next) {
      config = next;
      serial += 1;
      rebuild();
    },
  };
}
