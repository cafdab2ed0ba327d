import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { acquireDirLock } from './dir-lock.js';
import { LockedError } from './errors.js';
import { openFileStorage } from './storage-file.js';
import { tempDir } from './testkit/fixtures.js';

// Above Linux's pid_max (at most 2^22), so never a running process.
const DEAD_PID = 2147483646;

function lockedBy(pid: number): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof LockedError, `expected LockedError, got ${String(e)}`);
    assert.deepEqual([e.pid, e.code], [pid, 'RAFT_LOCKED']);
    assert.match(e.message, new RegExp(`held by running process ${pid}`));
    return true;
  };
}

describe('acquireDirLock', () => {
  it('refuses a second open of the same directory, naming the pid, until the first closes', async (t) => {
    const dir = await tempDir(t);
    const first = await openFileStorage(dir);
    t.after(() => first.close());
    await assert.rejects(openFileStorage(dir), lockedBy(process.pid));
    await assert.rejects(openFileStorage(dir), /\(this process\)/);
    await first.close();
    const second = await openFileStorage(dir);
    await second.close();
  });

  it('lets exactly one of two concurrent opens in one process win', async (t) => {
    const dir = await tempDir(t);
    const results = await Promise.allSettled([openFileStorage(dir), openFileStorage(dir)]);
    const won = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
    for (const s of won) t.after(() => s.close());
    assert.equal(won.length, 1, `outcomes: ${results.map((r) => r.status).join(', ')}`);
    assert.ok(lost[0] instanceof LockedError, `the loser got ${String(lost[0])}`);
  });

  it('refuses a lock held by another live process', async (t) => {
    const dir = await tempDir(t);
    await writeFile(join(dir, 'LOCK'), `${process.ppid}\n`);
    await assert.rejects(acquireDirLock(dir), lockedBy(process.ppid));
  });

  for (const [name, content] of [
    ['a dead pid', `${DEAD_PID}\n`],
    ['garbage', 'not a pid'],
  ] as const) {
    it(`takes over a stale lock holding ${name}`, async (t) => {
      const dir = await tempDir(t);
      await writeFile(join(dir, 'LOCK'), content);
      const lock = await acquireDirLock(dir);
      assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.pid));
      await lock.release();
      await assert.rejects(readFile(lock.path), /ENOENT/);
    });
  }

  it('does not release a lock that another process took over', async (t) => {
    const dir = await tempDir(t);
    const lock = await acquireDirLock(dir);
    await writeFile(lock.path, `${process.ppid}\n`);
    await lock.release();
    assert.equal((await readFile(lock.path, 'utf8')).trim(), String(process.ppid));
  });
});
