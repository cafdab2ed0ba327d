/**
 * Veto rules (DESIGN.md section 5): when external validation overrules an agent that claims healthy, per
 * veto mode, and when it rescues a stale agent's backend. Pure.
 */
import { RAMP_STEP } from './decide-ramp.js';
import type { BackendView, DecideConfig } from './decide-types.js';

const floorStep = (x: number) => Math.round(Math.floor(x / RAMP_STEP + 1e-9) * RAMP_STEP * 1000) / 1000;

/**
 * Veto verdict for an agent that claims healthy: 'veto', a partial weight cap (balanced minority), a recorded
 * disagreement (permissive), or none. `wasVetoed` gives hysteresis: a vetoed backend returns only after
 * success_threshold passing rounds (from every vantage in strict, from a majority in balanced).
 */
export function vetoVerdict(
  b: BackendView,
  cfg: DecideConfig,
  wasVetoed: boolean,
):
  | { kind: 'veto'; reason: string }
  | { kind: 'partial'; cap: number; reason: string }
  | { kind: 'disagree'; reason: string }
  | undefined {
  const n = b.external.length;
  if (n === 0) return undefined;
  const failing = b.external.filter((v) => v.consecutiveFailures >= cfg.vetoThreshold);
  const recovered = b.external.filter((v) => v.consecutiveSuccesses >= b.successThreshold).length;
  // The condition, not the streak length: a streak growing from 3 to 4 must not rewrite the decision.
  const which = failing.map((v) => `${v.vantage}: ${v.lastError || 'failing'}`).join('; ');
  const why = `failing ${cfg.vetoThreshold}+ rounds (${which})`;
  switch (cfg.vetoMode) {
    case 'strict':
      if (failing.length > 0) return { kind: 'veto', reason: `external validation ${why}` };
      if (wasVetoed && recovered < n)
        return {
          kind: 'veto',
          reason: `vetoed until every vantage point passes ${b.successThreshold} rounds`,
        };
      return undefined;
    case 'balanced':
      if (failing.length * 2 > n) return { kind: 'veto', reason: `majority of vantage points ${why}` };
      if (wasVetoed && recovered * 2 <= n)
        return {
          kind: 'veto',
          reason: `vetoed until a majority of vantage points passes ${b.successThreshold} rounds`,
        };
      if (failing.length > 0)
        return {
          kind: 'partial',
          cap: floorStep(1 - failing.length / n),
          reason: `minority of vantage points ${why}`,
        };
      return undefined;
    case 'permissive':
      if (failing.length > 0)
        return { kind: 'disagree', reason: `external validation disagrees with the agent: ${why}` };
      return undefined;
  }
}

/** External validation passes: the majority of vantage points' last probe succeeded (one vantage: that one). */
export function externalPassing(b: BackendView): boolean {
  const ok = b.external.filter((v) => v.lastOk).length;
  return b.external.length > 0 && ok * 2 > b.external.length;
}
