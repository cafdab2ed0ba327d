import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveDataDir } from './data-dir.js';

const root = mkdtempSync(join(tmpdir(), 'opengslb-data-dir-'));
after(() => rmSync(root, { recursive: true, force: true }));
// A path below a regular file cannot be created, even by root.
writeFileSync(join(root, 'file'), '');
const broken = join(root, 'file', 'raft');
const fallbackDir = join(root, 'fallback');

describe('resolveDataDir', () => {
  it('creates and uses a usable directory', () => {
    const dir = join(root, 'ok', 'raft');
    assert.deepEqual(resolveDataDir(dir, { fallback: true }), {
      ok: true,
      dir: resolve(dir),
      fellBack: false,
    });
  });

  it('falls back from an unusable default in standalone mode, naming why', () => {
    const r = resolveDataDir(broken, { fallback: true, defaultDir: broken, fallbackDir });
    assert.ok(r.ok);
    assert.equal(r.dir, resolve(fallbackDir));
    assert.equal(r.fellBack, true);
    assert.match(r.reason ?? '', /ENOTDIR/);
  });

  it('never falls back in cluster mode: a member on an empty directory would start as a new node', () => {
    const r = resolveDataDir(broken, { fallback: false, defaultDir: broken, fallbackDir });
    assert.ok(!r.ok);
    assert.match(r.error, /cluster\.raft\.data_dir: cannot use .*file\/raft: ENOTDIR/);
    assert.match(r.error, /a cluster member never falls back/);
  });

  it('never falls back from a directory other than the default', () => {
    const r = resolveDataDir(broken, { fallback: true, fallbackDir });
    assert.ok(!r.ok);
    assert.match(r.error, /^cluster\.raft\.data_dir: cannot use .*: ENOTDIR$/);
  });

  it('says when the fallback is unusable too', () => {
    const r = resolveDataDir(broken, {
      fallback: true,
      defaultDir: broken,
      fallbackDir: join(root, 'file', 'fb'),
    });
    assert.ok(!r.ok);
    assert.match(r.error, /nor .*file\/fb \(ENOTDIR\); set --data-dir/);
  });
});
