/**
 * Raft's safety properties (Raft paper Figure 3, thesis §3.6.3) as incremental checks the simulator feeds
 * after every event. Each check keeps global history rather than comparing live logs pairwise, which makes it
 * both cheaper and stronger:
 * - Election Safety: every (term, leader) ever observed is remembered; a second leader in a term fails.
 * - Log Matching: an entry (index, term) is created once, by the leader of that term, after a fixed
 *   predecessor. So every copy ever written to any log must carry the same payload and the same previous term;
 *   by induction two logs sharing (index, term) are then identical up to it.
 * - Leader Completeness: an entry committed in term t is in the log of every leader of a term > t. The commit
 *   term of index i is the term of the first node seen with commit >= i (an upper bound of the true one, so the
 *   check never fires falsely); each leader's log is recorded on its first Ready and checked against entries
 *   committed before and after.
 * - State Machine Safety: no two nodes apply different entries at one index.
 * - Durability of acknowledged proposals: at the end every live member applied each of them at its index.
 */
import type { Entry } from '../../internal/raft/storage.js';

/** Read access to one node's log: term(i) for firstIndex - 1 <= i <= lastIndex. */
export interface LogView {
  firstIndex: number;
  lastIndex: number;
  term(index: number): number;
}

/** What the checker counted, for the run summary. */
export interface InvariantStats {
  leaders: number;
  committed: number;
  acknowledged: number;
}

/** The checks; each method throws an Error naming the violated property when it fails. */
export interface InvariantChecker {
  /** After an event touched node `id`: its role, term and commit index. */
  observe(id: string, role: string, term: number, commit: number): void;
  /** `entries` were written to `id`'s log; `prevTerm` = its term at entries[0].index - 1 (undefined: compacted). */
  appended(id: string, entries: readonly Entry[], prevTerm: number | undefined): void;
  /** `id`'s log right after its first Ready as leader of `term`. */
  leaderLog(id: string, term: number, log: LogView): void;
  /** `id` applied `e` while in `nodeTerm`. */
  applied(id: string, e: Entry, nodeTerm: number): void;
  /** The leader that accepted `payload` applied it at `index`: the client was told it succeeded. */
  acknowledged(payload: string, index: number): void;
  /** After healing and quiescence: every acknowledged proposal is in every member's state machine. */
  checkAcknowledged(machines: ReadonlyMap<string, ReadonlyMap<number, string>>): void;
  stats(): InvariantStats;
}

/** An Error naming the property, as every check throws it. */
export function violation(property: string, detail: string): Error {
  const e = new Error(`${property} violated: ${detail}`);
  e.name = 'InvariantViolation';
  return e;
}

const decoder = new TextDecoder();

/** The payload as the state machine sees it: the command text, `conf {...}` for membership, '' for no-ops. */
export function payloadOf(e: Entry): string {
  const text = decoder.decode(e.data);
  return e.kind === 'conf' ? `conf ${text}` : text;
}

interface LeaderRecord {
  id: string;
  term: number;
  firstIndex: number;
  /** terms[k] = term of index firstIndex + k. */
  terms: number[];
}

/** Creates a checker with empty history. */
export function createInvariantChecker(): InvariantChecker {
  const leaders = new Map<number, string>();
  const leaderLogs: LeaderRecord[] = [];
  /** (index/term) -> payload and predecessor term of every entry ever written anywhere. */
  const written = new Map<string, { payload: string; prev: number | undefined }>();
  /** index -> the entry applied there (by whoever applied it first). */
  const committed: ({ term: number; payload: string } | undefined)[] = [];
  const commitTermAt: number[] = [];
  let maxCommit = 0;
  const acked = new Map<string, number>();

  function checkLeaderHas(L: LeaderRecord, index: number, term: number, ct: number): void {
    if (index < L.firstIndex) return; // compacted on the leader, hence committed there too
    const t = L.terms[index - L.firstIndex];
    if (t !== term) {
      throw violation(
        'leader completeness',
        `index ${index} (term ${term}) committed by term ${ct}, but leader ${L.id} of term ${L.term} has ${
          t === undefined ? `no entry there (lastIndex ${L.firstIndex + L.terms.length - 1})` : `term ${t}`
        }`,
      );
    }
  }

  return {
    observe(id: string, role: string, term: number, commit: number): void {
      if (role === 'leader') {
        const other = leaders.get(term);
        if (other !== undefined && other !== id)
          throw violation('election safety', `nodes ${other} and ${id} were both leader in term ${term}`);
        leaders.set(term, id);
      }
      for (let i = maxCommit + 1; i <= commit; i++) commitTermAt[i] = term;
      if (commit > maxCommit) maxCommit = commit;
    },

    appended(id: string, entries: readonly Entry[], prevTerm: number | undefined): void {
      let prev = prevTerm;
      for (const e of entries) {
        const k = `${e.index}/${e.term}`;
        const payload = payloadOf(e);
        const seen = written.get(k);
        if (seen === undefined) written.set(k, { payload, prev });
        else {
          if (seen.payload !== payload)
            throw violation(
              'log matching',
              `node ${id} wrote ${k} = ${JSON.stringify(payload)}, another log has ${JSON.stringify(seen.payload)}`,
            );
          if (prev !== undefined && seen.prev !== undefined && prev !== seen.prev)
            throw violation(
              'log matching',
              `node ${id} has ${k} after term ${prev}, another log has it after term ${seen.prev}`,
            );
          if (seen.prev === undefined) seen.prev = prev;
        }
        prev = e.term;
      }
    },

    leaderLog(id: string, term: number, log: LogView): void {
      const terms: number[] = [];
      for (let i = log.firstIndex; i <= log.lastIndex; i++) terms.push(log.term(i));
      const L: LeaderRecord = { id, term, firstIndex: log.firstIndex, terms };
      leaderLogs.push(L);
      committed.forEach((c, index) => {
        const ct = commitTermAt[index];
        if (c !== undefined && ct !== undefined && ct < term) checkLeaderHas(L, index, c.term, ct);
      });
    },

    applied(id: string, e: Entry, nodeTerm: number): void {
      const payload = payloadOf(e);
      const c = committed[e.index];
      if (c !== undefined) {
        if (c.term !== e.term || c.payload !== payload)
          throw violation(
            'state machine safety',
            `node ${id} applied ${e.index}/${e.term} ${JSON.stringify(payload)}, another node applied ${
              e.index
            }/${c.term} ${JSON.stringify(c.payload)}`,
          );
        return;
      }
      committed[e.index] = { term: e.term, payload };
      const ct = commitTermAt[e.index] ?? nodeTerm;
      for (const L of leaderLogs) if (L.term > ct) checkLeaderHas(L, e.index, e.term, ct);
    },

    acknowledged(payload: string, index: number): void {
      if (!acked.has(payload)) acked.set(payload, index);
    },

    checkAcknowledged(machines: ReadonlyMap<string, ReadonlyMap<number, string>>): void {
      for (const [payload, index] of acked) {
        for (const [id, sm] of machines) {
          const got = sm.get(index);
          if (got !== payload)
            throw violation(
              'durability of acknowledged proposals',
              `${JSON.stringify(payload)} was acknowledged at index ${index}, node ${id} has ${
                got === undefined ? 'nothing' : JSON.stringify(got)
              } there`,
            );
        }
      }
    },

    stats: () => ({ leaders: leaders.size, committed: maxCommit, acknowledged: acked.size }),
  };
}
