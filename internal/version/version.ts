/** The release version, read once from package.json next to the build so `--version` and metrics agree. */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'opengslb' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not at this depth (source vs dist layout); try the next.
    }
  }
  return '0.0.0-unknown';
}

/** e.g. "0.1.0". */
export const VERSION = readVersion();
