/**
 * DNS over UDP against the real binary: queries per second and latency percentiles at a fixed number of
 * queries in flight, from one client process on loopback.
 *
 *   npm run build && node dist/bench/dns-udp.js [--runs 5] [--queries 20000] [--inflight 32]
 *
 * Prints one line per run and the medians. Results are recorded in bench/RESULTS.md with the machine.
 */
import { createSocket } from 'node:dgram';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { startBackends } from '../test/testkit/backends.js';
import { allocatePorts, listenersYaml, startOpengslb } from '../test/testkit/opengslb.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    queries: { type: 'string', default: '20000' },
    inflight: { type: 'string', default: '32' },
  },
});
const RUNS = Number(values.runs);
const QUERIES = Number(values.queries);
const INFLIGHT = Number(values.inflight);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}
function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

async function run(port: number): Promise<{ qps: number; p50: number; p99: number }> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const packets = Array.from({ length: 65536 }, (_v, id) =>
    dnsPacket.encode({
      type: 'query',
      id,
      flags: 0,
      questions: [{ type: 'A', name: 'app.example.com', class: 'IN' }],
    }),
  );
  const sentAt = new Float64Array(65536);
  const latencies: number[] = [];
  let sent = 0;
  let received = 0;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(
      () => reject(new Error(`run timed out with ${received}/${QUERIES} answers`)),
      120_000,
    );
    const send = () => {
      const id = sent % 65536;
      sentAt[id] = performance.now();
      sent++;
      sock.send(packets[id] as Buffer, port, '127.0.0.1');
    };
    sock.on('message', (msg) => {
      const id = msg.readUInt16BE(0);
      latencies.push(performance.now() - (sentAt[id] as number));
      received++;
      if (received === QUERIES) {
        clearTimeout(deadline);
        resolve();
      } else if (sent < QUERIES) send();
    });
    for (let i = 0; i < INFLIGHT && sent < QUERIES; i++) send();
  });
  const elapsed = (performance.now() - started) / 1000;
  sock.close();
  latencies.sort((a, b) => a - b);
  return { qps: QUERIES / elapsed, p50: pct(latencies, 0.5), p99: pct(latencies, 0.99) };
}

const backends = await startBackends(['127.0.9.1', '127.0.9.2']);
const ports = await allocatePorts();
const node = await startOpengslb({
  ports,
  config: `${listenersYaml(ports).replace('level: debug', 'level: warn')}
regions:
  - name: r1
    servers: [{address: 127.0.9.1, port: ${backends[0]?.port}}, {address: 127.0.9.2, port: ${backends[0]?.port}}]
    health_check: {interval: 5s, timeout: 1s}
domains:
  - name: app.example.com
    routing_algorithm: weighted
    regions: [r1]
`,
});
try {
  await run(ports.dns); // warm-up
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await run(ports.dns);
    results.push(r);
    console.log(
      `run ${i + 1}: ${r.qps.toFixed(0)} qps, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms`,
    );
  }
  console.log(
    `median of ${RUNS} runs (${QUERIES} queries, ${INFLIGHT} in flight): ${median(results.map((r) => r.qps)).toFixed(0)} qps, p50 ${median(results.map((r) => r.p50)).toFixed(3)} ms, p99 ${median(results.map((r) => r.p99)).toFixed(3)} ms`,
  );
} finally {
  await node.stop();
  await Promise.all(backends.map((b) => b.stop()));
}
