/**
 * The data directory must work without root: when the default (/var/lib/opengslb/raft) cannot be created or
 * written, a standalone node falls back to ./data/raft and says so. A directory other than the default never
 * falls back, and neither does a cluster member: on an empty fallback directory it would bootstrap a second
 * cluster or ask to join under a name the cluster already has, so it refuses to start instead.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const DEFAULT_DATA_DIR = '/var/lib/opengslb/raft';
export const FALLBACK_DATA_DIR = './data/raft';

export type DataDirResult =
  | { ok: true; dir: string; fellBack: boolean; reason?: string }
  | { ok: false; error: string };

function usable(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : `${code ?? String(e)}`;
  }
}

/** Options of {@link resolveDataDir}; the directories are parameters so tests can use their own. */
export interface DataDirOptions {
  /** Whether the default may fall back (standalone mode only). */
  fallback: boolean;
  defaultDir?: string;
  fallbackDir?: string;
}

/** Creates (if needed) and checks the data directory; `configured` is the loaded `cluster.raft.data_dir`. */
export function resolveDataDir(configured: string, o: DataDirOptions): DataDirResult {
  const defaultDir = o.defaultDir ?? DEFAULT_DATA_DIR;
  const fallbackDir = o.fallbackDir ?? FALLBACK_DATA_DIR;
  const problem = usable(configured);
  if (problem === undefined) return { ok: true, dir: resolve(configured), fellBack: false };
  if (configured !== defaultDir) {
    return { ok: false, error: `cluster.raft.data_dir: cannot use ${configured}: ${problem}` };
  }
  if (!o.fallback) {
    return {
      ok: false,
      error: `cluster.raft.data_dir: cannot use ${configured}: ${problem}; a cluster member never falls back to ${fallbackDir} (on an empty directory it would start as a new node): fix the directory or set --data-dir`,
    };
  }
  const fallbackProblem = usable(fallbackDir);
  if (fallbackProblem !== undefined) {
    return {
      ok: false,
      error: `cannot use ${configured} (${problem}) nor ${fallbackDir} (${fallbackProblem}); set --data-dir`,
    };
  }
  return { ok: true, dir: resolve(fallbackDir), fellBack: true, reason: `${configured}: ${problem}` };
}
