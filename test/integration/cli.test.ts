/**
 * The `opengslb` command line: validate, exit codes, messages, --version, environment variables and flag
 * precedence. Addresses 127.0.10.x.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VERSION } from '../../internal/version/version.js';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig, serversOf } from '../testkit/config.js';
import { allocatePorts, type Ports, runCli, startOpengslb } from '../testkit/opengslb.js';
import { freePorts, portFree } from '../testkit/ports.js';

const BACKEND = '127.0.10.2';

describe('opengslb command line', () => {
  let dir = '';
  let backends: TestBackend[] = [];
  let ports: Ports;
  let good = '';
  let goodPath = '';

  /** Writes `text` to a new file in the test's directory and returns its path. */
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'opengslb-cli-'));
    backends = await startBackends([BACKEND]);
    ports = await allocatePorts();
    good = gslbConfig(ports, {
      regions: [{ name: 'r', servers: serversOf(backends), health_check: FAST_CHECK }],
      domains: [{ name: 'app.example.com', regions: ['r'] }],
    });
    goodPath = file('good.yaml', good);
  });

  after(async () => {
    await Promise.all(backends.map((b) => b.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('validate exits 0 on a good file', async () => {
    const res = await runCli(['validate', '--config', goodPath]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /configuration OK/);
  });

  it('validate reports three distinct mistakes with their paths and exits 2', async () => {
    const text = good
      .replace(`listen_address: "127.0.0.1:${ports.dns}"`, 'listen_address: "nonsense"')
      .replace('"interval":"200ms"', '"interval":"5 parsecs"')
      .replace('"name":"app.example.com"', '"name":"app.example.com","routing_algorithm":"random"');
    const path = file('three-mistakes.yaml', text);
    const res = await runCli(['validate', '--config', path]);
    assert.equal(res.code, 2, res.stderr);
    const paths = ['dns.listen_address', 'regions[0].health_check.interval', 'domains[0].routing_algorithm'];
    const lines = res.stderr.split('\n').filter((l) => l.trim() !== '');
    for (const p of paths) {
      assert.ok(
        lines.some((l) => l.includes(`${p}:`)),
        `a line naming ${p} in:\n${res.stderr}`,
      );
    }
    for (const value of ['nonsense', '5 parsecs', 'random']) {
      assert.ok(res.stderr.includes(value), `the bad value ${value} is quoted:\n${res.stderr}`);
    }
  });

  it('a missing config file exits 2 with a clear message', async () => {
    const missing = join(dir, 'does-not-exist.yaml');
    for (const args of [
      ['validate', '--config', missing],
      ['--config', missing],
    ]) {
      const res = await runCli(args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.ok(res.stderr.includes(missing), `names the file: ${res.stderr}`);
      assert.match(res.stderr, /no such file/);
    }
  });

  it('no --config exits 2 and says it is required', async () => {
    const res = await runCli([]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--config/);
  });

  it('an unknown flag exits 2 naming it', async () => {
    const res = await runCli(['--config', goodPath, '--no-such-flag']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /no-such-flag/);
  });

  it('--version prints the version', async () => {
    const res = await runCli(['--version']);
    assert.equal(res.code, 0);
    assert.equal(res.stdout.trim(), `opengslb ${VERSION}`);
  });

  it('an unknown OPENGSLB_* variable exits 2 naming it', async () => {
    for (const args of [
      ['validate', '--config', goodPath],
      ['--config', goodPath],
    ]) {
      const res = await runCli(args, { OPENGSLB_NO_SUCH_KEY: '1' });
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, /OPENGSLB_NO_SUCH_KEY/);
    }
  });

  it('a cluster member whose Raft address peers cannot dial exits 2 at start; validate of the shared file passes', async () => {
    const shared = file('shared.yaml', `${good}\ncluster:\n  mode: cluster\n`);
    const ok = await runCli(['validate', '--config', shared]);
    assert.equal(ok.code, 0, ok.stderr);
    const res = await runCli(['--config', shared, '--bootstrap', '--node-name', 'node-1']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(
      res.stderr,
      /opengslb: cluster\.bind_address: "0\.0\.0\.0:7000" listens on every interface, so peers cannot dial it/,
    );
  });

  const occupiers: Array<{ proto: string; occupy: (port: number) => Promise<() => Promise<void>> }> = [
    {
      proto: 'tcp',
      occupy: async (port) => {
        const srv = createServer();
        srv.listen(port, '127.0.0.1');
        await once(srv, 'listening');
        return () => new Promise<void>((resolve) => srv.close(() => resolve()));
      },
    },
    {
      proto: 'udp',
      occupy: async (port) => {
        const sock = createSocket('udp4');
        sock.bind(port, '127.0.0.1');
        await once(sock, 'listening');
        return () => new Promise<void>((resolve) => sock.close(() => resolve()));
      },
    },
  ];
  for (const { proto, occupy } of occupiers) {
    it(`a DNS port already in use (${proto}) exits 1 naming the address and DNS`, async (t) => {
      const [port, api, metrics, grpc] = (await freePorts(4)) as [number, number, number, number];
      const release = await occupy(port);
      t.after(release);
      const path = file(
        `busy-${proto}.yaml`,
        gslbConfig({ dns: port, api, metrics, grpc }, { regions: [], domains: [] }),
      );
      const res = await runCli(['--config', path, '--data-dir', join(dir, 'data')]);
      assert.equal(res.timedOut, false, 'started despite the busy port');
      assert.equal(res.code, 1, res.stderr);
      const message = res.stderr.split('\n').find((l) => l.startsWith('opengslb: '));
      assert.ok(message, `a one-line reason on stderr: ${res.stderr}`);
      assert.ok(message.includes(`127.0.0.1:${port}`), `names the address: ${message}`);
      assert.match(message, /dns/i);
    });
  }

  describe('precedence: flag > OPENGSLB_* environment > file', () => {
    it('the environment overrides the file', async (t) => {
      const [fileDns, envDns, api, metrics, grpc] = (await freePorts(5)) as [
        number,
        number,
        number,
        number,
        number,
      ];
      const listenPorts = { dns: envDns, api, metrics, grpc };
      const r = await startOpengslb({
        ports: listenPorts,
        config: gslbConfig(
          { ...listenPorts, dns: fileDns },
          {
            regions: [{ name: 'r', servers: serversOf(backends), health_check: FAST_CHECK }],
            domains: [{ name: 'app.example.com', regions: ['r'] }],
          },
        ),
        env: { OPENGSLB_DNS_LISTEN_ADDRESS: `127.0.0.1:${envDns}` },
      });
      t.after(() => r.stop());
      assert.deepEqual(await r.addresses('app.example.com'), [BACKEND], 'the environment port answers');
      assert.ok(await portFree(fileDns), `the file's port ${fileDns} is not bound`);
    });

    it('a flag overrides the environment', async (t) => {
      const [fileDns, envDns, flagDns, api, metrics, grpc] = (await freePorts(6)) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const listenPorts = { dns: flagDns, api, metrics, grpc };
      const r = await startOpengslb({
        ports: listenPorts,
        config: gslbConfig(
          { ...listenPorts, dns: fileDns },
          {
            regions: [{ name: 'r', servers: serversOf(backends), health_check: FAST_CHECK }],
            domains: [{ name: 'app.example.com', regions: ['r'] }],
          },
        ),
        env: { OPENGSLB_DNS_LISTEN_ADDRESS: `127.0.0.1:${envDns}` },
        args: ['--dns-listen-address', `127.0.0.1:${flagDns}`],
      });
      t.after(() => r.stop());
      assert.deepEqual(await r.addresses('app.example.com'), [BACKEND], 'the flag port answers');
      assert.ok(await portFree(envDns), `the environment's port ${envDns} is not bound`);
      assert.ok(await portFree(fileDns), `the file's port ${fileDns} is not bound`);
    });
  });
});
