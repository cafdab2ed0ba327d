/**
 * The simulator sweep the cluster-sim*.test.ts files run: many seeds for 3, 5 and 7 voters and each of their
 * profiles (two files, so each stays well inside the test runner's per-file timeout). SIM_SEEDS sets the seeds
 * per (profile, size) pair; SIM_SEED, SIM_PROFILE and SIM_NODES narrow the run to replay one failure (a failing
 * seed prints exactly that command); SIM_TRACE sets how many of its last events it prints.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSimulation, type SimReport } from './cluster-sim.js';
import { type SimProfile, simProfile } from './sim-profiles.js';

const env = process.env;
/** Seeds per (profile, size); about 16 ms of CPU per seed on average on the 2-core CI machine. */
const DEFAULT_SEEDS = 200;

function intEnv(name: string): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Error(`${name}=${JSON.stringify(v)} must be an integer >= 1`);
  return n;
}

const one = intEnv('SIM_SEED');
/** Events a failure prints (default 50): raise it to see how a failing run got there. */
const trace = intEnv('SIM_TRACE');
const seedCount = intEnv('SIM_SEEDS') ?? DEFAULT_SEEDS;
const sizes = env['SIM_NODES'] !== undefined ? [intEnv('SIM_NODES') as number] : [3, 5, 7];
const only = env['SIM_PROFILE'] !== undefined ? simProfile(env['SIM_PROFILE']).name : undefined;
const seeds = one !== undefined ? [one] : Array.from({ length: seedCount }, (_, i) => i + 1);

/** Failures printed with their event trace; later ones get the violation and the reproduction line. */
const SHOWN_IN_FULL = 2;

function firstLines(msg: string): string {
  const lines = msg.split('\n');
  return [lines[0], ...lines.filter((l) => l.includes('reproduce:'))].join('\n');
}

function total(rs: readonly SimReport[], k: keyof SimReport): number {
  return rs.reduce((s, r) => s + r[k], 0);
}

/** Declares the sweep over the profiles called `names` (only SIM_PROFILE's, when it is set and among them). */
export function describeSweep(names: readonly string[]): void {
  const profiles: SimProfile[] = names.filter((n) => only === undefined || n === only).map(simProfile);
  describe(`cluster simulator: ${names.join(', ')}`, () => {
    for (const profile of profiles) {
      for (const nodes of sizes) {
        const name = `${profile.name}, ${nodes} nodes, seeds ${seeds[0]}..${seeds[seeds.length - 1]}`;
        it(name, async () => {
          const reports: SimReport[] = [];
          // A failing seed does not end the sweep: the rest still run, and every failure is reported together
          // (the first ones in full, the others by their reproduction line).
          const failures: string[] = [];
          for (const seed of seeds) {
            try {
              reports.push(
                await runSimulation({
                  seed,
                  nodes,
                  profile,
                  ...(trace === undefined ? {} : { traceEvents: trace }),
                }),
              );
            } catch (e: unknown) {
              const msg = e instanceof Error ? e.message : String(e);
              failures.push(failures.length < SHOWN_IN_FULL ? msg : firstLines(msg));
            }
          }
          assert.equal(
            failures.length,
            0,
            `${failures.length} of ${seeds.length} seeds failed:\n${failures.join('\n')}`,
          );
          // Every run elected leaders and acknowledged proposals; the profile's faults really happened.
          assert.ok(
            reports.every((r) => r.leaders > 0 && r.acknowledged > 0),
            'a run acknowledged nothing',
          );
          if (seeds.length < 20) return;
          assert.ok(total(reports, 'reads') > 0, 'no ReadIndex request was answered');
          const f = profile.faults;
          if ((f.crash ?? 0) > 0)
            assert.ok(total(reports, 'lostWrites') > 0, 'no crash lost an unsynced write');
          if ((f.partition ?? 0) > 0) assert.ok(total(reports, 'partitions') > 0, 'no partition happened');
          if ((f.membership ?? 0) > 0) assert.ok(total(reports, 'confChanges') > 0, 'no membership change');
        });
      }
    }
  });
}
