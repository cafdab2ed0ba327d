import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { agentFlags, agentReference, loadAgentConfig } from './agent.js';
import { checkDialAddress } from './agent-schema.js';

const repo = new URL('../../../', import.meta.url);

const minimal = `
agent:
  region: us-east-1
  overwatch:
    addresses: ["10.0.1.1:9443"]
  backends:
    - service: app.example.com
      address: 10.0.1.10
`;

function errorsOf(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = loadAgentConfig({ file: 'a.yaml', text, env });
  assert.equal(r.ok, false, 'expected the configuration to be rejected');
  return r.ok ? [] : r.errors;
}

function load(text: string) {
  const r = loadAgentConfig({ file: 'a.yaml', text });
  assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
  return r.value;
}

describe('loadAgentConfig', () => {
  it('loads the DESIGN.md 7a example', () => {
    const c = load(`
agent:
  id: web-1
  region: us-east-1
  report_interval: 1s
  overwatch:
    addresses: ["10.0.1.1:9443", "10.0.1.2:9443"]
    token: ""
    tls: {ca_file: "", cert_file: "", key_file: "", server_name: ""}
  backends:
    - service: app.example.com
      address: 10.0.1.10
      port: 80
      weight: 100
      health_check: {type: http, path: /health, interval: 5s, timeout: 2s,
                     failure_threshold: 3, success_threshold: 2,
                     address: "", port: 0}
  predictive:
    error_rate:
      source: {type: health_checks}
  metrics: {enabled: false, address: "127.0.0.1:9110"}
logging: {level: info, format: json}
`);
    assert.equal(c.agent.id, 'web-1');
    assert.deepEqual(c.agent.overwatch.addresses, ['10.0.1.1:9443', '10.0.1.2:9443']);
    assert.equal(c.agent.backends[0]?.healthCheck.timeoutMs, 2000);
    assert.equal(c.agent.predictive.errorRate.source.type, 'health_checks');
  });

  it('applies defaults for everything absent', () => {
    const c = load(minimal);
    assert.equal(c.agent.id, '', 'the caller substitutes the host name');
    assert.equal(c.agent.reportIntervalMs, 1000);
    assert.equal(c.agent.overwatch.token, '');
    const b = c.agent.backends[0];
    assert.deepEqual(
      { port: b?.port, weight: b?.weight },
      { port: 80, weight: 100 },
      'backend port and weight defaults',
    );
    assert.deepEqual(b?.healthCheck, {
      type: 'http',
      path: '/health',
      host: '',
      intervalMs: 5000,
      timeoutMs: 2000,
      failureThreshold: 3,
      successThreshold: 2,
      expectedStatus: '200-299',
      address: '',
      port: 0,
    });
    assert.deepEqual(c.agent.predictive.cpu.source, { type: 'host', path: '' });
    assert.deepEqual(c.agent.predictive.memory.source, { type: 'host', path: '' });
    assert.deepEqual(c.agent.predictive.errorRate.source, {
      type: 'health_checks',
      url: '',
      metric: 'http_requests_total',
      errorSelector: 'code=~"5.."',
      timeoutMs: 2000,
    });
    assert.deepEqual(c.agent.metrics, { enabled: false, address: '127.0.0.1:9110' });
    assert.deepEqual(c.logging, { level: 'info', format: 'json' });
  });

  it('loads file and prometheus sources', () => {
    const c = load(`${minimal}
  predictive:
    cpu: {source: {type: file, path: /tmp/cpu}}
    error_rate:
      source: {type: prometheus, url: "http://127.0.0.1:8080/metrics", error_selector: 'status=~"5..",method!="HEAD"'}
`);
    assert.deepEqual(c.agent.predictive.cpu.source, { type: 'file', path: '/tmp/cpu' });
    assert.equal(c.agent.predictive.errorRate.source.url, 'http://127.0.0.1:8080/metrics');
  });

  it('requires region, overwatch addresses and backends', () => {
    assert.deepEqual(errorsOf('agent: {}\n'), [
      'a.yaml:1:8: agent.region: is required',
      'a.yaml:1:8: agent.overwatch.addresses: is required',
      'a.yaml:1:8: agent.backends: is required',
    ]);
    assert.deepEqual(errorsOf('agent: {region: r1, overwatch: {addresses: []}, backends: []}\n'), [
      'a.yaml:1:44: agent.overwatch.addresses: must list at least one overwatch gRPC address, e.g. ["10.0.1.1:9443"]',
      'a.yaml:1:59: agent.backends: must list at least one backend',
    ]);
  });

  it('reports every bad value with its path and position', () => {
    const errors = errorsOf(`
agent:
  region: us east
  report_interval: 10ms
  overwatch:
    addresses: [":9443", "10.0.1.1"]
  backends:
    - service: app
      address: 10.0.1.300
      weight: 1001
      health_check: {type: udp, port: 70000, address: "not a host"}
  metrics: {address: "9110"}
`);
    assert.deepEqual(errors, [
      'a.yaml:3:11: agent.region: must be 1-63 letters, digits, ".", "_" or "-" (got "us east")',
      'a.yaml:4:20: agent.report_interval: must be at least 100ms (got "10ms")',
      'a.yaml:6:17: agent.overwatch.addresses[0]: must be host:port with a host and a port 1..65535, e.g. "10.0.1.1:9443" or "overwatch-1:9443" (got ":9443")',
      'a.yaml:6:26: agent.overwatch.addresses[1]: must be host:port with a host and a port 1..65535, e.g. "10.0.1.1:9443" or "overwatch-1:9443" (got "10.0.1.1")',
      'a.yaml:8:16: agent.backends[0].service: must be a fully qualified domain name like "app.example.com" (got "app")',
      'a.yaml:9:16: agent.backends[0].address: must be an IPv4 or IPv6 address (got "10.0.1.300")',
      'a.yaml:10:15: agent.backends[0].weight: must be an integer 0..1000 (got 1001)',
      'a.yaml:11:28: agent.backends[0].health_check.type: must be one of http, https, tcp (got "udp")',
      'a.yaml:11:55: agent.backends[0].health_check.address: must be an IP address or a host name, e.g. "127.0.0.1" or "localhost" (got "not a host")',
      'a.yaml:11:39: agent.backends[0].health_check.port: must be an integer 0..65535 (got 70000)',
      'a.yaml:12:22: agent.metrics.address: must be host:port with a port 1..65535, e.g. ":53", "127.0.0.1:1053" or "[::1]:8080" (got "9110")',
    ]);
  });

  it('rejects unknown keys with a did-you-mean hint', () => {
    assert.deepEqual(errorsOf(`${minimal}  predictve: {}\n`), [
      'a.yaml:9:3: agent.predictve: unknown key (did you mean "predictive"?)',
    ]);
  });

  it('rejects token together with token_file, and half a client certificate', () => {
    const errors = errorsOf(
      minimal.replace(
        'addresses: ["10.0.1.1:9443"]',
        'addresses: ["10.0.1.1:9443"]\n    token: t\n    token_file: /etc/t\n    tls: {cert_file: /c.pem}',
      ),
    );
    assert.deepEqual(errors, [
      'a.yaml:7:17: agent.overwatch.token_file: cannot be combined with agent.overwatch.token (set one of them)',
      'a.yaml:8:10: agent.overwatch.tls.key_file: is required when agent.overwatch.tls.cert_file is set',
    ]);
  });

  it('rejects duplicate backends and a timeout longer than the interval', () => {
    const errors = errorsOf(`${minimal}      health_check: {interval: 1s, timeout: 2s}
    - service: app.example.com
      address: 10.0.1.10
      port: 80
    - service: app.example.com
      address: 10.0.1.10
      port: 8080
`);
    assert.deepEqual(errors, [
      'a.yaml:9:45: agent.backends[0].health_check.timeout: must not exceed health_check.interval (2000ms > 1000ms)',
      'a.yaml:10:7: agent.backends[1]: duplicate backend app.example.com 10.0.1.10:80 (also at agent.backends[0])',
    ]);
  });

  const sourceCases: Array<{ name: string; predictive: string; want: string[] }> = [
    {
      name: 'file source without a path',
      predictive: 'cpu: {source: {type: file}}',
      want: ['a.yaml:10:19: agent.predictive.cpu.source.path: is required when type is file'],
    },
    {
      name: 'a path on a host source',
      predictive: 'memory: {source: {path: /tmp/mem}}',
      want: [
        'a.yaml:10:29: agent.predictive.memory.source.path: is only used when type is file (type is host)',
      ],
    },
    {
      name: 'prometheus without a url',
      predictive: 'error_rate: {source: {type: prometheus}}',
      want: ['a.yaml:10:26: agent.predictive.error_rate.source.url: is required when type is prometheus'],
    },
    {
      name: 'a url that is not http(s)',
      predictive: 'error_rate: {source: {type: prometheus, url: "ftp://x/metrics"}}',
      want: [
        'a.yaml:10:50: agent.predictive.error_rate.source.url: must be an http:// or https:// URL like "http://127.0.0.1:8080/metrics" (got "ftp://x/metrics")',
      ],
    },
    {
      name: 'a url on a health_checks source',
      predictive: 'error_rate: {source: {url: "http://x/metrics"}}',
      want: [
        'a.yaml:10:32: agent.predictive.error_rate.source.url: is only used when type is prometheus (type is health_checks)',
      ],
    },
    {
      name: 'a bad selector and metric name',
      predictive: `error_rate: {source: {type: prometheus, url: "http://x/m", metric: "a-b", error_selector: 'code=~"(5"'}}`,
      want: [
        'a.yaml:10:72: agent.predictive.error_rate.source.metric: must be a Prometheus metric name like "http_requests_total" (got "a-b")',
        'a.yaml:10:95: agent.predictive.error_rate.source.error_selector: has an invalid regular expression "(5": Invalid regular expression: /^(?:(5)$/: Unterminated group',
      ],
    },
    {
      name: 'an empty selector',
      predictive: `error_rate: {source: {type: prometheus, url: "http://x/m", error_selector: ""}}`,
      want: [
        'a.yaml:10:80: agent.predictive.error_rate.source.error_selector: must select the error series, e.g. code=~"5.." (an empty selector would count every request)',
      ],
    },
  ];
  for (const c of sourceCases) {
    it(`rejects ${c.name}`, () => {
      // An absent key is located at the nearest mapping the file has (the `source` mapping).
      const errors = errorsOf(`${minimal}  predictive:\n    ${c.predictive}\n`);
      assert.deepEqual(errors, c.want);
    });
  }
});

describe('agent environment and flags', () => {
  it('resolves OPENGSLB_AGENT_* against the agent schema', () => {
    const r = loadAgentConfig({
      file: undefined,
      text: minimal,
      env: {
        OPENGSLB_AGENT_REGION: 'eu-west-1',
        OPENGSLB_AGENT_ID: 'web-9',
        OPENGSLB_AGENT_REPORT_INTERVAL: '250ms',
        OPENGSLB_AGENT_OVERWATCH_ADDRESSES: '10.0.0.1:9443, 10.0.0.2:9443',
        OPENGSLB_AGENT_OVERWATCH_TOKEN_FILE: '/run/token',
        OPENGSLB_AGENT_METRICS_ENABLED: 'true',
        OPENGSLB_LOGGING_LEVEL: 'debug',
        HOME: '/root',
      },
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.equal(r.value.agent.region, 'eu-west-1');
    assert.equal(r.value.agent.id, 'web-9');
    assert.equal(r.value.agent.reportIntervalMs, 250);
    assert.deepEqual(r.value.agent.overwatch.addresses, ['10.0.0.1:9443', '10.0.0.2:9443']);
    assert.equal(r.value.agent.overwatch.tokenFile, '/run/token');
    assert.equal(r.value.agent.metrics.enabled, true);
    assert.equal(r.value.logging.level, 'debug');
  });

  it('rejects an overwatch-only variable, naming it', () => {
    assert.deepEqual(errorsOf(minimal, { OPENGSLB_CLUSTER_MODE: 'cluster' }), [
      'environment variable OPENGSLB_CLUSTER_MODE names no configuration key',
    ]);
  });

  it('takes flag over environment over file, and needs no file when flags say enough', () => {
    const flag = (name: string, text: string) => {
      const f = agentFlags.find((x) => x.flag === name);
      assert.ok(f, `flag --${name} exists`);
      return { path: f.path, text, source: `--${name}` };
    };
    const r = loadAgentConfig({
      file: undefined,
      text: minimal.replace('region: us-east-1', 'region: from-file\n  id: file-id'),
      env: { OPENGSLB_AGENT_REGION: 'from-env', OPENGSLB_AGENT_ID: 'env-id' },
      flags: [
        flag('region', 'from-flag'),
        flag('overwatch', '127.0.0.1:1,127.0.0.1:2'),
        flag('metrics', 'true'),
        flag('metrics-address', '127.0.0.1:9999'),
        flag('log-level', 'warn'),
        flag('token-file', '/t'),
      ],
    });
    assert.ok(r.ok, r.ok ? '' : r.errors.join('\n'));
    assert.equal(r.value.agent.region, 'from-flag', 'flag wins');
    assert.equal(r.value.agent.id, 'env-id', 'environment beats file');
    assert.deepEqual(r.value.agent.overwatch.addresses, ['127.0.0.1:1', '127.0.0.1:2']);
    assert.deepEqual(r.value.agent.metrics, { enabled: true, address: '127.0.0.1:9999' });
    assert.equal(r.value.logging.level, 'warn');
    assert.equal(r.value.agent.overwatch.tokenFile, '/t');
  });

  it('names the flag a bad value came from', () => {
    const r = loadAgentConfig({
      file: undefined,
      text: minimal,
      flags: [{ path: ['agent', 'overwatch', 'addresses'], text: 'nohost', source: '--overwatch' }],
    });
    assert.deepEqual(r.ok ? [] : r.errors, [
      'agent.overwatch.addresses[0]: must be host:port with a host and a port 1..65535, e.g. "10.0.1.1:9443" or "overwatch-1:9443" (got "nohost")',
    ]);
  });
});

describe('checkDialAddress', () => {
  for (const ok of ['10.0.1.1:9443', 'overwatch-1:9443', '[::1]:9443', 'localhost:1']) {
    it(`accepts ${ok}`, () => assert.equal(checkDialAddress(ok), undefined));
  }
  for (const bad of [':9443', '10.0.1.1', '10.0.1.1:0', '::1:9443']) {
    it(`rejects ${bad}`, () => assert.notEqual(checkDialAddress(bad), undefined));
  }
});

describe('docs/agent-configuration.md', () => {
  it('matches the schema (regenerate with npm run docs)', () => {
    const want = agentReference();
    const got = readFileSync(new URL('docs/agent-configuration.md', repo), 'utf8');
    assert.equal(got, want, 'docs/agent-configuration.md is out of date: run `npm run docs`');
  });
});
