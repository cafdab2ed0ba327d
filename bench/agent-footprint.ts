/**
 * The agent's footprint at a 1 s report interval with 5 backends (issue #3 budget: < 80 MB RSS, < 2 % of one
 * core): starts a real overwatch, 5 local HTTP backends and the real agent, lets it settle, then samples the
 * agent's RSS and CPU time from /proc for a measurement window.
 *
 *   npm run build && node dist/bench/agent-footprint.js [--seconds 60]
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBackends } from '../test/testkit/backends.js';
import { allocatePorts, listenersYaml, REPO_ROOT, startOpengslb } from '../test/testkit/opengslb.js';
import { waitFor } from '../test/testkit/wait.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const SECONDS = Number(values.seconds);
const TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS; // utime + stime
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1]) / 1024;
}

const addresses = ['127.0.30.1', '127.0.30.2', '127.0.30.3', '127.0.30.4', '127.0.30.5'];
const backends = await startBackends(addresses);
const ports = await allocatePorts();
const node = await startOpengslb({
  ports,
  config: `${listenersYaml(ports).replace('level: debug', 'level: warn')}
regions:
  - {name: r1, servers: []}
domains:
  - {name: app.example.com, regions: [r1], max_records: 5}
cluster:
  overwatch:
    agent_tokens: {app.example.com: bench-token}
`,
});
const configPath = join('/tmp', `agent-bench-${process.pid}.yaml`);
writeFileSync(
  configPath,
  `agent:
  id: bench
  region: r1
  report_interval: 1s
  overwatch: {addresses: ["127.0.0.1:${ports.grpc}"], token: bench-token}
  backends:
${addresses.map((a) => `    - {service: app.example.com, address: ${a}, port: ${backends[0]?.port}, health_check: {interval: 1s, timeout: 500ms}}`).join('\n')}
logging: {level: warn}
`,
);
const agent = spawn(
  process.execPath,
  [join(REPO_ROOT, 'dist/cmd/opengslb-agent/main.js'), '--config', configPath],
  {
    stdio: 'inherit',
  },
);
const pid = agent.pid as number;
try {
  await waitFor(
    'all 5 agent backends in answers',
    async () => ((await node.addresses('app.example.com')).length === 5 ? true : undefined),
    20_000,
  );
  // Settle: JIT warm-up and the first GC cycles are not the steady state.
  await new Promise((r) => setTimeout(r, 10_000));
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  const rss: number[] = [];
  while (performance.now() - t0 < SECONDS * 1000) {
    rss.push(rssMb(pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const cpuPct = ((cpuSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000)) * 100;
  rss.sort((a, b) => a - b);
  console.log(
    `agent, 5 backends, 1 s reports, ${SECONDS} s window: RSS median ${rss[Math.floor(rss.length / 2)]?.toFixed(1)} MB, max ${rss[rss.length - 1]?.toFixed(1)} MB; CPU ${cpuPct.toFixed(2)} % of one core`,
  );
} finally {
  agent.kill('SIGTERM');
  await new Promise((r) => agent.once('exit', r));
  await node.stop();
  await Promise.all(backends.map((b) => b.stop()));
}
