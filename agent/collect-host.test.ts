import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  type CpuTimes,
  cpuPercentBetween,
  createHostCpuSource,
  createHostMemorySource,
  memoryPercent,
  parseMeminfo,
  parseProcStat,
} from './collect-host.js';

const statText = (user: number, idle: number, iowait = 0, steal = 0, guest = 0): string =>
  [
    `cpu  ${user} 0 0 ${idle} ${iowait} 0 0 ${steal} ${guest} 0`,
    `cpu0 ${user} 0 0 ${idle} ${iowait} 0 0 ${steal} ${guest} 0`,
    'intr 12345 0 0',
    'ctxt 987654',
    '',
  ].join('\n');

const meminfoText = `MemTotal:       16000000 kB
MemFree:         2000000 kB
MemAvailable:   12000000 kB
Buffers:          500000 kB
Cached:          3000000 kB
SwapTotal:             0 kB
`;

describe('parseProcStat', () => {
  it('reads the aggregate line (busy excludes idle and iowait, total excludes guest)', () => {
    const text = 'cpu  101710 5 16137 237223 476 10 422 53 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n';
    assert.deepEqual(parseProcStat(text), {
      busy: 101710 + 5 + 16137 + 10 + 422 + 53,
      total: 101710 + 5 + 16137 + 10 + 422 + 53 + 237223 + 476,
    });
  });
  it('accepts the 4-field line of old kernels', () => {
    assert.deepEqual(parseProcStat('cpu 10 0 5 85\n'), { busy: 15, total: 100 });
  });
  for (const bad of ['', 'cpu0 1 2 3 4\n', 'cpu  a b c d\n', 'cpu 1 2\n']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseProcStat(bad), undefined));
  }
});

describe('cpuPercentBetween', () => {
  const cases: Array<{ name: string; prev: CpuTimes; next: CpuTimes; want: number | undefined }> = [
    { name: 'a quarter busy', prev: { busy: 100, total: 1000 }, next: { busy: 150, total: 1200 }, want: 25 },
    { name: 'idle', prev: { busy: 100, total: 1000 }, next: { busy: 100, total: 1100 }, want: 0 },
    { name: 'saturated', prev: { busy: 100, total: 1000 }, next: { busy: 200, total: 1100 }, want: 100 },
    {
      name: 'no tick elapsed',
      prev: { busy: 100, total: 1000 },
      next: { busy: 100, total: 1000 },
      want: undefined,
    },
    {
      name: 'counters went back',
      prev: { busy: 100, total: 1000 },
      next: { busy: 90, total: 1100 },
      want: undefined,
    },
    // iowait may decrease (proc(5)), making total grow less than busy: clamp rather than report > 100.
    {
      name: 'iowait went back',
      prev: { busy: 100, total: 1000 },
      next: { busy: 200, total: 1090 },
      want: 100,
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.equal(cpuPercentBetween(c.prev, c.next), c.want));
  }
});

describe('parseMeminfo and memoryPercent', () => {
  it('uses MemAvailable', () => {
    const m = parseMeminfo(meminfoText);
    assert.deepEqual(m, { totalKb: 16_000_000, availableKb: 12_000_000 });
    assert.equal(m === undefined ? -1 : memoryPercent(m), 25);
  });
  it('falls back to MemFree + Buffers + Cached before Linux 3.14', () => {
    const old = meminfoText.replace(/^MemAvailable:.*\n/m, '');
    assert.deepEqual(parseMeminfo(old), { totalKb: 16_000_000, availableKb: 5_500_000 });
  });
  it('rejects text without MemTotal', () => {
    assert.equal(parseMeminfo('MemFree: 1 kB\n'), undefined);
  });
});

describe('host sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'opengslb-proc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads CPU from /proc fixtures, relative to the baseline taken at creation', async () => {
    writeFileSync(join(dir, 'stat'), statText(1000, 9000));
    writeFileSync(join(dir, 'meminfo'), meminfoText);
    const cpu = await createHostCpuSource({ procDir: dir });
    assert.equal(cpu.reader, 'proc');
    writeFileSync(join(dir, 'stat'), statText(1300, 9100));
    assert.equal(await cpu.read(), 75, '300 busy of 400 ticks since creation');
    assert.equal(await cpu.read(), 75, 'no tick elapsed: previous value');
    writeFileSync(join(dir, 'stat'), statText(1310, 9190, 0, 0));
    assert.equal(await cpu.read(), 10);
  });

  it('reads memory from /proc fixtures', async () => {
    writeFileSync(join(dir, 'stat'), statText(1, 1));
    writeFileSync(join(dir, 'meminfo'), meminfoText);
    const mem = await createHostMemorySource({ procDir: dir });
    assert.equal(mem.reader, 'proc');
    assert.equal(await mem.read(), 25);
    writeFileSync(join(dir, 'meminfo'), 'garbage\n');
    await assert.rejects(mem.read(), /meminfo: no MemTotal line/);
  });

  it('falls back to systeminformation when /proc is not usable', async () => {
    const missing = join(dir, 'no-such-dir');
    const [cpu, mem] = await Promise.all([
      createHostCpuSource({ procDir: missing }),
      createHostMemorySource({ procDir: missing }),
    ]);
    assert.deepEqual([cpu.reader, mem.reader], ['systeminformation', 'systeminformation']);
    const [c, m] = await Promise.all([cpu.read(), mem.read()]);
    assert.ok(c >= 0 && c <= 100, `cpu ${c} within 0..100`);
    assert.ok(m > 0 && m <= 100, `memory ${m} within 0..100`);
  });

  it('reads the real host on Linux', { skip: process.platform !== 'linux' && 'not Linux' }, async () => {
    const [cpu, mem] = await Promise.all([createHostCpuSource(), createHostMemorySource()]);
    assert.deepEqual([cpu.reader, mem.reader], ['proc', 'proc']);
    const [c, m] = await Promise.all([cpu.read(), mem.read()]);
    assert.ok(c >= 0 && c <= 100, `cpu ${c} within 0..100`);
    assert.ok(m > 0 && m <= 100, `memory ${m} within 0..100`);
  });
});
