/**
 * Go-style durations ("500ms", "10s", "1m30s", "1.5h"), the notation of the seed guide's config.
 * Milliseconds are the internal unit: every duration key becomes a `...Ms` number when loaded.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parses a duration string into milliseconds, or returns undefined when it is not one. "0" is zero. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    pos = PART.lastIndex;
  }
  return Math.round(total);
}

/** Renders milliseconds the way an operator would write them: 1500 -> "1.5s", 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = ms;
  const h = Math.floor(rest / 3_600_000);
  if (h > 0) {
    parts.push(`${h}h`);
    rest -= h * 3_600_000;
  }
  const m = Math.floor(rest / 60_000);
  if (m > 0) {
    parts.push(`${m}m`);
    rest -= m * 60_000;
  }
  if (rest > 0) parts.push(`${rest / 1000}s`);
  return parts.join('');
}
