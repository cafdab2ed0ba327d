/**
 * Host CPU and memory as percentages of the machine (DESIGN.md section 5), for the predictor.
 *
 * On Linux the sources read `/proc/stat` and `/proc/meminfo` directly; elsewhere, or when `/proc` is not
 * readable, they fall back to `systeminformation`, imported lazily so Linux agents never load it. Measured on
 * Node 20 (x86-64 Linux, 2 vCPU), per sample of CPU + memory:
 *
 * | reader            | RSS when loaded | load time | CPU per sample                 | wall per sample |
 * |-------------------|-----------------|-----------|--------------------------------|-----------------|
 * | /proc (this file) | +0 MB           | 0 ms      | ~1 ms                          | ~1 ms, async    |
 * | systeminformation | +8.6 to 9.8 MB  | 30-55 ms  | ~3.4 ms + ~4.5 ms in a child   | ~32 ms, blocking |
 *
 * `si.currentLoad()` runs `execSync('cat /proc/stat | grep cpu')` on Linux every time it recomputes: a shell
 * and two processes per sample, with the event loop blocked meanwhile. At a 1 s interval that is ~0.8 % of a
 * CPU and 30 ms stalls of the agent's gRPC stream, against a budget of < 2 % CPU and < 80 MB RSS.
 *
 * Percentages are of the whole host, not of a container's cgroup limits.
 */
import { readFile } from 'node:fs/promises';
import type { SignalSource } from './signal-source.js';

/** Cumulative CPU time of all cores, in clock ticks since boot. */
export interface CpuTimes {
  /** Time not idle: user + nice + system + irq + softirq + steal. */
  busy: number;
  /** busy + idle + iowait. */
  total: number;
}

/**
 * Reads the aggregate `cpu` line of /proc/stat (proc(5)): user nice system idle iowait irq softirq steal
 * guest guest_nice. guest and guest_nice are already counted in user and nice, so they are left out; iowait
 * counts as idle (the CPU was free to run something else).
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** CPU use between two readings, 0..100; undefined when no tick elapsed (or the counters went back). */
export function cpuPercentBetween(prev: CpuTimes, next: CpuTimes): number | undefined {
  const dTotal = next.total - prev.total;
  const dBusy = next.busy - prev.busy;
  if (dTotal <= 0 || dBusy < 0) return undefined;
  return Math.min(100, Math.max(0, (dBusy / dTotal) * 100));
}

/** The memory figures of /proc/meminfo the agent needs, in kB. */
export interface MemInfo {
  totalKb: number;
  /** MemAvailable: what can be allocated without swapping (kernel's estimate, Linux >= 3.14). */
  availableKb: number;
}

/** Parses /proc/meminfo; before Linux 3.14 (no MemAvailable) available is MemFree + Buffers + Cached. */
export function parseMeminfo(text: string): MemInfo | undefined {
  const kb = (key: string): number | undefined => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m === null ? undefined : Number(m[1]);
  };
  const totalKb = kb('MemTotal');
  if (totalKb === undefined || totalKb === 0) return undefined;
  const available = kb('MemAvailable');
  const availableKb = available ?? (kb('MemFree') ?? 0) + (kb('Buffers') ?? 0) + (kb('Cached') ?? 0);
  return { totalKb, availableKb: Math.min(availableKb, totalKb) };
}

/** Memory in use, 0..100: (total - available) / total. */
export function memoryPercent(m: MemInfo): number {
  return ((m.totalKb - m.availableKb) / m.totalKb) * 100;
}

/** Which reader a host source uses. */
export type HostReader = 'proc' | 'systeminformation';

export interface HostSourceOptions {
  /** `auto` (default): `proc` when `<procDir>/stat` and `<procDir>/meminfo` parse, else systeminformation. */
  reader?: HostReader | 'auto';
  /** Directory holding `stat` and `meminfo`; default `/proc`. Tests point it at fixtures. */
  procDir?: string;
}

/** A host signal source and the reader it chose (logged at start-up). */
export interface HostSource extends SignalSource {
  readonly reader: HostReader;
}

async function readProc(dir: string, name: string): Promise<string> {
  try {
    return await readFile(`${dir}/${name}`, 'utf8');
  } catch (e: unknown) {
    throw new Error(`cannot read ${dir}/${name}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
      cause: e,
    });
  }
}

async function procUsable(dir: string): Promise<boolean> {
  try {
    const [stat, meminfo] = await Promise.all([readProc(dir, 'stat'), readProc(dir, 'meminfo')]);
    return parseProcStat(stat) !== undefined && parseMeminfo(meminfo) !== undefined;
  } catch {
    // Not Linux, or /proc hidden (some sandboxes): the portable reader takes over.
    return false;
  }
}

async function chooseReader(opts: HostSourceOptions): Promise<HostReader> {
  const wanted = opts.reader ?? 'auto';
  if (wanted !== 'auto') return wanted;
  return (await procUsable(opts.procDir ?? '/proc')) ? 'proc' : 'systeminformation';
}

/**
 * Host CPU use in percent. The baseline is taken when the source is created, so the first `read()` reports
 * the use since creation (not since boot); each later read reports the use since the previous one. A read
 * with no tick elapsed repeats the previous value.
 */
export async function createHostCpuSource(opts: HostSourceOptions = {}): Promise<HostSource> {
  const reader = await chooseReader(opts);
  if (reader === 'systeminformation') {
    const si = await import('systeminformation');
    // The first call only primes systeminformation's own baseline (its value is an average since boot).
    await si.currentLoad();
    return { reader, read: async () => (await si.currentLoad()).currentLoad };
  }
  const dir = opts.procDir ?? '/proc';
  const sample = async (): Promise<CpuTimes> => {
    const times = parseProcStat(await readProc(dir, 'stat'));
    if (times === undefined) throw new Error(`${dir}/stat: no aggregate "cpu" line`);
    return times;
  };
  let prev = await sample();
  let last = 0;
  return {
    reader,
    read: async () => {
      const next = await sample();
      const pct = cpuPercentBetween(prev, next);
      prev = next;
      if (pct !== undefined) last = pct;
      return last;
    },
  };
}

/** Host memory in use, in percent of the machine's memory. */
export async function createHostMemorySource(opts: HostSourceOptions = {}): Promise<HostSource> {
  const reader = await chooseReader(opts);
  if (reader === 'systeminformation') {
    const si = await import('systeminformation');
    return {
      reader,
      read: async () => {
        const m = await si.mem();
        return m.total > 0 ? ((m.total - m.available) / m.total) * 100 : 0;
      },
    };
  }
  const dir = opts.procDir ?? '/proc';
  return {
    reader,
    read: async () => {
      const m = parseMeminfo(await readProc(dir, 'meminfo'));
      if (m === undefined) throw new Error(`${dir}/meminfo: no MemTotal line`);
      return memoryPercent(m);
    },
  };
}
