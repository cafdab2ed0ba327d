/**
 * The data directory must work without root: when the default (/var/lib/opengslb/raft) cannot be created or
 * written, fall back to ./data/raft and say so. An explicitly configured directory never falls back.
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

/** Creates (if needed) and checks the data directory; `configured` is the loaded `cluster.raft.data_dir`. */
export function resolveDataDir(configured: string): DataDirResult {
  const problem = usable(configured);
  if (problem === undefined) return { ok: true, dir: resolve(configured), fellBack: false };
  if (configured !== DEFAULT_DATA_DIR) {
    return { ok: false, error: `cluster.raft.data_dir: cannot use ${configured}: ${problem}` };
  }
  const fallbackProblem = usable(FALLBACK_DATA_DIR);
  if (fallbackProblem !== undefined) {
    return {
      ok: false,
      error: `cannot use ${configured} (${problem}) nor ${FALLBACK_DATA_DIR} (${fallbackProblem}); set --data-dir`,
    };
  }
  return { ok: true, dir: resolve(FALLBACK_DATA_DIR), fellBack: true, reason: `${configured}: ${problem}` };
}
