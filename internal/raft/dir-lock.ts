/**
 * One process per data directory, without flock: `LOCK` holds the owner's pid and is created with link(2),
 * which fails atomically if it exists, from a fully written temp file (so nobody ever reads a half-written
 * pid). A lock whose pid is no longer running is stale (the owner crashed) and is taken over.
 *
 * Limits: a recycled pid makes a stale lock look live (the error names the pid; delete LOCK by hand), and two
 * processes taking over the same stale lock at once are separated only by the re-check after writing.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LockedError } from './errors.js';

/** A held directory lock. */
export interface DirLock {
  /** Path of the LOCK file. */
  readonly path: string;
  /** Removes LOCK if it still names this process. */
  release(): Promise<void>;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e: unknown) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (e: unknown) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Takes `dir/LOCK` or throws LockedError naming the live holder's pid. */
export async function acquireDirLock(dir: string): Promise<DirLock> {
  const path = join(dir, 'LOCK');
  // Unique per attempt: two opens of one directory in the same process must not share a temp file.
  const tmp = join(dir, `LOCK.${process.pid}.${randomBytes(4).toString('hex')}`);
  const lock: DirLock = {
    path,
    async release(): Promise<void> {
      if ((await readHolder(path)) === process.pid) await rm(path, { force: true });
    },
  };
  await writeFile(tmp, `${process.pid}\n`, { mode: 0o644 });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path);
        if ((await readHolder(path)) === process.pid) return lock;
        continue;
      } catch (e: unknown) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const holder = await readHolder(path);
      if (holder !== undefined && isRunning(holder)) throw new LockedError(path, holder);
      // Stale (owner gone) or unreadable garbage left by a crash: take it over.
      await rm(path, { force: true });
    }
    throw new Error(`raft storage: could not take ${path}: other processes keep replacing it`);
  } finally {
    await rm(tmp, { force: true });
  }
}
