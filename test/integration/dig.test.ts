/**
 * A third-party client against the real server: `dig` over UDP and TCP, when it is installed (skipped with
 * the reason otherwise). Addresses 127.0.11.x.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBackends, type TestBackend } from '../testkit/backends.js';
import { FAST_CHECK, gslbConfig, serversOf } from '../testkit/config.js';
import { waitHealth } from '../testkit/observe.js';
import { type RunningOpengslb, startOpengslb } from '../testkit/opengslb.js';

const ADDRESSES = ['127.0.11.2', '127.0.11.3'];

/** The first `dig` executable on PATH, if any. */
function findDig(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    if (dir === '') continue;
    const candidate = join(dir, 'dig');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this PATH entry; keep looking.
    }
  }
  return undefined;
}

function dig(bin: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`dig ${args.join(' ')} failed: ${err.message}\n${stderr}`, { cause: err }));
      else resolve(stdout);
    });
  });
}

const DIG = findDig();

describe('dig', () => {
  let run: RunningOpengslb | undefined;
  let backends: TestBackend[] = [];

  before(async () => {
    if (DIG === undefined) return;
    backends = await startBackends(ADDRESSES);
    run = await startOpengslb({
      config: (ports) =>
        gslbConfig(ports, {
          regions: [{ name: 'r', servers: serversOf(backends), health_check: FAST_CHECK }],
          domains: [{ name: 'app.example.com', regions: ['r'], max_records: 2 }],
        }),
    });
    await waitHealth(run, Object.fromEntries(ADDRESSES.map((a) => [a, true])));
  });

  after(async () => {
    await run?.stop();
    await Promise.all(backends.map((b) => b.stop()));
  });

  /** dig against the server: one try of 2 s, so a dropped answer fails; +norec, as to any authoritative server. */
  const ask = (extra: string[]): Promise<string> => {
    assert.ok(DIG && run);
    return dig(DIG, ['@127.0.0.1', '-p', String(run.ports.dns), '+tries=1', '+time=2', '+norec', ...extra]);
  };

  for (const transport of ['udp', 'tcp']) {
    it(`dig +short over ${transport} shows the backend addresses`, async (t) => {
      if (DIG === undefined) return t.skip('dig not installed (Debian: apt-get install dnsutils)');
      const out = await ask(['app.example.com', 'A', '+short', ...(transport === 'tcp' ? ['+tcp'] : [])]);
      const lines = out.split('\n').filter((l) => l.trim() !== '');
      assert.deepEqual(lines.sort(), ADDRESSES, `dig output:\n${out}`);
    });
  }

  it('dig parses an NXDOMAIN with the SOA cleanly', async (t) => {
    if (DIG === undefined) return t.skip('dig not installed (Debian: apt-get install dnsutils)');
    const out = await ask(['x.app.example.com', 'A']);
    assert.match(out, /status: NXDOMAIN/);
    assert.match(out, /flags: qr aa/);
    assert.match(out, /AUTHORITY SECTION:\s*\napp\.example\.com\.\s+\d+\s+IN\s+SOA\s/);
    assert.doesNotMatch(out, /malformed|WARNING|Warning/, 'dig found nothing wrong with the message');
  });
});
