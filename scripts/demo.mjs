// `npm run demo`: starts three demo backends and a standalone opengslb on the bundled demo config, then
// prints how to query it. Ctrl-C stops everything. Run through scripts/demo.sh, which installs and builds.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const backends = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
const children = [];

function start(args, name) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) process.stdout.write(`[demo] ${name} (pid ${child.pid}) exited (${signal ?? code})\n`);
    if (name === 'opengslb' && !stopping) shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code = 0) {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => process.exit(code), 500).unref();
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

const pids = backends.map((a) => ({
  address: a,
  pid: start(['scripts/demo-backend.mjs', a, '8081'], `backend ${a}`).pid,
}));
start(['dist/cmd/opengslb/main.js', '--config', 'deploy/demo/config.yaml'], 'opengslb');

process.stdout.write(`
[demo] opengslb is starting with deploy/demo/config.yaml (first answers after one health-check round, ~2 s).
  DNS      dig @127.0.0.1 -p 1053 app.example.com A +short      (round-robin, all healthy backends)
           dig @127.0.0.1 -p 1053 api.example.com A +short      (weighted)
           dig @127.0.0.1 -p 1053 www.example.com A +short      (failover: 127.0.0.4 first)
  REST     curl -s http://127.0.0.1:8080/api/v1/health/servers
           curl -s http://127.0.0.1:8080/api/v1/domains
  Metrics  curl -s http://127.0.0.1:9090/metrics | grep opengslb_
  Backends ${pids.map((p) => `${p.address} pid ${p.pid}`).join(', ')}
           stop one (kill ${pids[1]?.pid}) and it leaves the answers within 2s x 2 failures (+1 s).
  Ctrl-C stops the demo.
`);
