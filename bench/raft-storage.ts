/**
 * Raft file storage: durable appends of 200-byte entries per second, with an fsync per entry and with one
 * per batch of 64 entries, plus the per-entry case that also replaces the hard state (commit) each time.
 *
 *   npm run build && node dist/bench/raft-storage.js [--runs 5] [--entries 2000] [--dir /var/tmp]
 *
 * The data directory is a fresh temp directory under --dir (default os.tmpdir()); fsync cost depends entirely
 * on the file system and device behind it (tmpfs makes it free), so record which one was used.
 * Prints one line per run and the medians. Results go in bench/RESULTS.md with the machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Entry } from '../internal/raft/index.js';
import { openFileStorage } from '../internal/raft/index.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    entries: { type: 'string', default: '2000' },
    dir: { type: 'string', default: tmpdir() },
  },
});
const RUNS = Number(values.runs);
const ENTRIES = Number(values.entries);
const ENTRY_BYTES = 200;
const BATCH = 64;

interface Mode {
  name: string;
  batch: number;
  hardState: boolean;
}
const MODES: Mode[] = [
  { name: 'sync per entry', batch: 1, hardState: false },
  { name: 'sync per entry + hard state', batch: 1, hardState: true },
  { name: `sync per ${BATCH} entries`, batch: BATCH, hardState: false },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

async function run(mode: Mode): Promise<number> {
  const dir = await mkdtemp(join(values.dir, 'raft-bench-'));
  const storage = await openFileStorage(dir);
  const data = new Uint8Array(ENTRY_BYTES).fill(0x61);
  try {
    const started = performance.now();
    for (let next = 1; next <= ENTRIES; ) {
      const batch: Entry[] = [];
      for (let i = 0; i < mode.batch && next <= ENTRIES; i++, next++) {
        batch.push({ index: next, term: 1, kind: 'normal', data });
      }
      storage.append(batch);
      if (mode.hardState) storage.setHardState({ term: 1, vote: '', commit: next - 1 });
      await storage.sync();
    }
    return ENTRIES / ((performance.now() - started) / 1000);
  } finally {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(
  `raft storage bench: ${ENTRIES} entries of ${ENTRY_BYTES} bytes, ${RUNS} runs, dir ${values.dir}`,
);
for (const mode of MODES) {
  await run({ ...mode }); // warm-up
  const rates: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const rate = await run(mode);
    rates.push(rate);
    console.log(`  ${mode.name}: run ${r + 1}: ${rate.toFixed(0)} entries/s`);
  }
  const m = median(rates);
  console.log(
    `${mode.name}: median ${m.toFixed(0)} entries/s (${(m / mode.batch).toFixed(0)} syncs/s), ` +
      `range ${Math.min(...rates).toFixed(0)} - ${Math.max(...rates).toFixed(0)}`,
  );
}
