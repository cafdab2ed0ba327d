/**
 * `opengslb-agent validate`: a good file exits 0; a bad one prints every problem with its key path (and
 * file position) on stderr and exits 2, both for single-key mistakes and for rules across keys. No network.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentYaml, runAgentCli } from '../testkit/agent.js';

describe('opengslb-agent validate', () => {
  let dir = '';
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'opengslb-agent-cli-'));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 on a good file', async () => {
    const path = file(
      'good.yaml',
      agentYaml({
        id: 'agent-1',
        region: 'r',
        overwatch: ['127.0.0.1:9443'],
        token: 't',
        backends: [{ service: 'app.example.com', address: '127.0.29.2', port: 80 }],
      }),
    );
    const res = await runAgentCli(['validate', '--config', path]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout.trim(), `${path}: configuration OK`);
    assert.equal(res.stderr, '');
  });

  const cases: Array<{ name: string; yaml: string; problems: Array<[path: string, says: RegExp]> }> = [
    {
      name: 'mistakes in single keys',
      yaml: [
        'agent:',
        '  id: "bad id!"',
        '  report_interval: 5 parsecs',
        '  overwatch:',
        '    addresses: [":9443"]',
        '    token: t',
        '  backends:',
        '    - service: app.example.com',
        '      address: not-an-ip',
        '',
      ].join('\n'),
      problems: [
        ['agent.id', /"bad id!"/],
        ['agent.region', /is required/],
        ['agent.report_interval', /"5 parsecs"/],
        ['agent.overwatch.addresses[0]', /":9443"/],
        ['agent.backends[0].address', /"not-an-ip"/],
      ],
    },
    {
      name: 'rules across keys',
      yaml: [
        'agent:',
        '  region: r',
        '  overwatch:',
        '    addresses: ["127.0.0.1:9443"]',
        '    token: t',
        '    token_file: /etc/opengslb/agent.token',
        '  backends:',
        '    - service: app.example.com',
        '      address: 127.0.29.2',
        '      health_check: {interval: 1s, timeout: 2s}',
        '  predictive:',
        '    cpu:',
        '      source: {type: file}',
        '',
      ].join('\n'),
      problems: [
        ['agent.overwatch.token_file', /agent\.overwatch\.token/],
        ['agent.backends[0].health_check.timeout', /2000ms > 1000ms/],
        ['agent.predictive.cpu.source.path', /required when type is file/],
      ],
    },
  ];
  for (const c of cases) {
    it(`prints every problem with its path and exits 2: ${c.name}`, async () => {
      const path = file(`${c.name.replaceAll(' ', '-')}.yaml`, c.yaml);
      const res = await runAgentCli(['validate', '--config', path]);
      assert.equal(res.code, 2, res.stderr);
      assert.equal(res.stdout, '', 'nothing on stdout');
      const lines = res.stderr.split('\n').filter((l) => l !== '');
      assert.equal(lines.length, c.problems.length, `one line per problem:\n${res.stderr}`);
      for (const [key, says] of c.problems) {
        const line = lines.find((l) => l.includes(` ${key}: `));
        assert.ok(line, `a line for ${key} in:\n${res.stderr}`);
        assert.match(line, says);
        assert.ok(line.startsWith(`opengslb-agent: ${path}:`), `names the file and position: ${line}`);
      }
    });
  }

  it('a missing --config exits 2 and says it is required', async () => {
    const res = await runAgentCli(['validate']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--config FILE is required/);
  });
});
