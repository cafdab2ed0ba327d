import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { defaultOverwatchConfig, loadOverwatchConfig, overwatchReference } from './overwatch.js';
import { clusterStartProblems } from './overwatch-checks.js';
import { formatProblem } from './validate.js';

const repo = new URL('../../../', import.meta.url);

const minimal = `
regions:
  - name: us-east-1
    servers:
      - address: 10.0.1.10
domains:
  - name: app.example.com
    regions: [us-east-1]
`;

function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = loadOverwatchConfig({ file: 'c.yaml', text, env });
  assert.equal(r.ok, false, 'expected the configuration to be rejected');
  return r.ok ? [] : r.errors;
}

describe('loadOverwatchConfig', () => {
  it('loads the seed guide configuration unchanged', () => {
    const r = loadOverwatchConfig({
      file: 'deploy/config/cluster.example.yaml',
      text: readFileSync(new URL('deploy/config/cluster.example.yaml', repo), 'utf8'),
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.equal(r.value.cluster.mode, 'cluster');
    assert.equal(r.value.cluster.raft.heartbeatTimeoutMs, 1000);
    assert.equal(r.value.regions[0]?.healthCheck.intervalMs, 10_000);
    assert.equal(r.value.regions[1]?.healthCheck.failureThreshold, 3, 'default failure_threshold');
    assert.deepEqual(r.value.api.allowedNetworks, ['10.0.0.0/8', '172.16.0.0/12']);
    assert.equal(r.value.cluster.predictiveHealth.errorRate.windowMs, 60_000);
  });

  it('applies defaults for everything absent', () => {
    const c = defaultOverwatchConfig();
    assert.equal(c.dns.listenAddress, ':53');
    assert.equal(c.dns.defaultTtl, 60);
    assert.equal(c.dns.maxUdpSize, 1232);
    assert.equal(c.metrics.address, ':9090');
    assert.equal(c.api.address, ':8080');
    assert.equal(c.grpc.address, ':9443');
    assert.equal(c.cluster.overwatch.vetoMode, 'balanced');
    assert.equal(c.cluster.overwatch.panicThreshold, 0.5);
  });

  it('reports every problem at once with its path and position', () => {
    const errors = errorsOf(`
regions:
  - name: us-east-1
    servers:
      - address: 10.0.1.10
      - address: 10.0.1.11
        weight: -5
    health_check:
      interval: 10
domains:
  - name: app.example.com
    routing_algorithm: weigthed
    regions: [us-east-1]
`);
    assert.deepEqual(errors, [
      'c.yaml:7:17: regions[0].servers[1].weight: must be an integer 0..1000 (got -5)',
      'c.yaml:9:17: regions[0].health_check.interval: must be a duration like "500ms" or "10s" (got 10)',
      'c.yaml:12:24: domains[0].routing_algorithm: must be one of round-robin, weighted, failover, geolocation, latency (got "weigthed")',
    ]);
  });

  it('rejects unknown keys with a did-you-mean hint', () => {
    const errors = errorsOf(`${minimal}\nloging:\n  level: info\napi:\n  adress: ":8080"\n`);
    assert.deepEqual(errors, [
      'c.yaml:10:1: loging: unknown key (did you mean "logging"?)',
      'c.yaml:13:3: api.adress: unknown key (did you mean "address"?)',
    ]);
  });

  it('rejects a domain naming a region that does not exist', () => {
    const errors = errorsOf(minimal.replace('regions: [us-east-1]', 'regions: [us-east-1, us-east-2]'));
    assert.deepEqual(errors, [
      'c.yaml:8:26: domains[0].regions[1]: region "us-east-2" is not defined in regions[] (did you mean "us-east-1"?)',
    ]);
  });

  it('reports YAML syntax errors with line and column', () => {
    const errors = errorsOf('dns:\n  listen_address: ":53"\n   default_ttl: 5\n');
    assert.equal(errors.length >= 1, true);
    assert.match(errors[0] ?? '', /^c\.yaml:3:\d+: YAML syntax error: /);
  });

  it('reports a missing file clearly', () => {
    const r = loadOverwatchConfig({ file: '/nonexistent/opengslb.yaml' });
    assert.deepEqual(r.ok ? [] : r.errors, [
      '/nonexistent/opengslb.yaml: cannot read configuration file: no such file',
    ]);
  });

  it('rejects duplicate names, bad addresses and cross-key contradictions', () => {
    const errors = errorsOf(`
dns: {listen_address: "53"}
regions:
  - name: r1
    servers: [{address: 10.0.0.300}]
    health_check: {interval: 1s, timeout: 2s}
  - name: r1
domains:
  - name: app.example.com
    regions: [r1]
`);
    assert.deepEqual(errors, [
      'c.yaml:2:23: dns.listen_address: must be host:port with a port 1..65535, e.g. ":53", "127.0.0.1:1053" or "[::1]:8080" (got "53")',
      'c.yaml:5:25: regions[0].servers[0].address: must be an IPv4 or IPv6 address (got "10.0.0.300")',
      'c.yaml:7:11: regions[1].name: duplicate name "r1" (also at regions[0])',
    ]);
  });

  it('runs cross-key rules once the keys themselves are valid', () => {
    const errors = errorsOf(`${minimal}\ncluster:\n  raft: {heartbeat_timeout: 2s, election_timeout: 1s}\n`);
    assert.deepEqual(errors, [
      'c.yaml:11:51: cluster.raft.election_timeout: must be at least cluster.raft.heartbeat_timeout (1000ms < 2000ms)',
    ]);
  });

  it('requires cluster.raft.tls cert_file, key_file and ca_file together (mutual TLS or none)', () => {
    const errors = errorsOf(
      `${minimal}\ncluster:\n  raft:\n    tls: {cert_file: /p/peer.pem, key_file: /p/peer.key}\n`,
    );
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(
      errors[0] ?? '',
      /cluster\.raft\.tls: cert_file, key_file and ca_file must be set together for mutual TLS between peers \(2 of 3 set\)$/,
    );
  });
});

describe('cluster Raft address (checked at start, with flags and environment applied)', () => {
  const startProblems = (extra: string): string[] => {
    const r = loadOverwatchConfig({
      file: 'c.yaml',
      text: `${minimal}\ncluster:\n  mode: cluster\n${extra}`,
      env: {},
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    return clusterStartProblems(r.value).map((p) => formatProblem(p));
  };

  it('refuses a wildcard bind address with nothing advertised: peers could not dial it', () => {
    for (const bind of ['0.0.0.0:7000', ':7000', '[::]:7000']) {
      const errors = startProblems(`  bind_address: "${bind}"\n`);
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(
        errors[0] ?? '',
        /^cluster\.bind_address: ".*" listens on every interface, so peers cannot dial it/,
      );
    }
    // The default bind address is 0.0.0.0:7000: a member must name its address one way or the other.
    assert.match(startProblems('')[0] ?? '', /"0\.0\.0\.0:7000" listens on every interface/);
  });

  it('accepts a wildcard bind address with a concrete advertise address, and refuses a wildcard advertised', () => {
    assert.deepEqual(
      startProblems('  bind_address: "0.0.0.0:7000"\n  advertise_address: "10.0.1.1:7000"\n'),
      [],
    );
    assert.deepEqual(startProblems('  bind_address: "10.0.1.1:7000"\n'), []);
    assert.match(
      startProblems('  bind_address: "10.0.1.1:7000"\n  advertise_address: "0.0.0.0:7000"\n')[0] ?? '',
      /^cluster\.advertise_address: "0\.0\.0\.0:7000" is not an address peers can dial/,
    );
  });

  it('leaves standalone mode alone (no peers)', () => {
    const r = loadOverwatchConfig({ file: 'c.yaml', text: minimal, env: {} });
    assert.ok(r.ok);
    assert.deepEqual(clusterStartProblems(r.value), []);
  });
});

describe('environment and flags', () => {
  it('resolves variables against the schema path', () => {
    const r = loadOverwatchConfig({
      file: undefined,
      text: minimal,
      env: {
        OPENGSLB_CLUSTER_NODE_NAME: 'node-7',
        OPENGSLB_CLUSTER_RAFT_DATA_DIR: '/tmp/x',
        OPENGSLB_DNS_LISTEN_ADDRESS: '127.0.0.1:1053',
        OPENGSLB_CLUSTER_BOOTSTRAP: 'true',
        OPENGSLB_CLUSTER_RAFT_HEARTBEAT_TIMEOUT: '150ms',
        OPENGSLB_CLUSTER_RAFT_ELECTION_TIMEOUT: '150ms',
        OPENGSLB_API_ALLOWED_NETWORKS: '10.0.0.0/8, 192.168.0.0/16',
        PATH: '/usr/bin',
      },
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.equal(r.value.cluster.nodeName, 'node-7');
    assert.equal(r.value.cluster.raft.dataDir, '/tmp/x');
    assert.equal(r.value.dns.listenAddress, '127.0.0.1:1053');
    assert.equal(r.value.cluster.bootstrap, true);
    assert.equal(r.value.cluster.raft.heartbeatTimeoutMs, 150);
    assert.deepEqual(r.value.api.allowedNetworks, ['10.0.0.0/8', '192.168.0.0/16']);
  });

  it('rejects a variable that names no key, and bad values with their source', () => {
    const errors = errorsOf(minimal, {
      OPENGSLB_DNS_LISTEN_ADRESS: ':53',
      OPENGSLB_DNS_DEFAULT_TTL: 'sixty',
    });
    assert.deepEqual(errors, [
      'environment variable OPENGSLB_DNS_LISTEN_ADRESS names no configuration key',
      'dns.default_ttl: must be a number (got "sixty") (from OPENGSLB_DNS_DEFAULT_TTL)',
    ]);
  });

  it("ignores opengslbctl's own variables (an operator's shell may export them)", () => {
    const r = loadOverwatchConfig({
      file: 'c.yaml',
      text: minimal,
      env: {
        OPENGSLB_ADDRESS: '127.0.0.1:9443',
        OPENGSLB_ADMIN_TOKEN: 's3cret',
        OPENGSLB_API: 'http://x:8080',
      },
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.equal(
      r.value.api.adminToken,
      '',
      'OPENGSLB_ADMIN_TOKEN is not api.admin_token (OPENGSLB_API_ADMIN_TOKEN)',
    );
  });

  it('takes flag over environment over file over default', () => {
    const text = `${minimal}\ndns: {listen_address: "127.0.0.1:1"}\nmetrics: {address: "127.0.0.1:2"}\napi: {address: "127.0.0.1:3"}\n`;
    const r = loadOverwatchConfig({
      file: undefined,
      text,
      env: { OPENGSLB_DNS_LISTEN_ADDRESS: '127.0.0.1:10', OPENGSLB_METRICS_ADDRESS: '127.0.0.1:20' },
      flags: [{ path: ['dns', 'listen_address'], text: '127.0.0.1:100', source: '--dns-listen-address' }],
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.equal(r.value.dns.listenAddress, '127.0.0.1:100', 'flag wins');
    assert.equal(r.value.metrics.address, '127.0.0.1:20', 'environment beats file');
    assert.equal(r.value.api.address, '127.0.0.1:3', 'file beats default');
    assert.equal(r.value.grpc.address, ':9443', 'default');
  });
});

describe('docs/configuration.md', () => {
  it('matches the schema (regenerate with npm run docs)', () => {
    const want = overwatchReference();
    const got = readFileSync(new URL('docs/configuration.md', repo), 'utf8');
    assert.equal(got, want, 'docs/configuration.md is out of date: run `npm run docs`');
  });
});
