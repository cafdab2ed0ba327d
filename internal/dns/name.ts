// Domain names between wire form (RFC 1035 §3.1: length-prefixed labels ending in the zero-length root label)
// and presentation form (RFC 1035 §5.1: labels joined by '.', special bytes escaped as \. \\ or \DDD).

/** Longest name on the wire, length octets and root label included (RFC 1035 §2.3.4). */
export const MAX_NAME_WIRE_LENGTH = 255;
/** Longest label (RFC 1035 §2.3.4); also keeps the top two bits of a length octet clear. */
export const MAX_LABEL_LENGTH = 63;

const DOT = 0x2e;
const BACKSLASH = 0x5c;
const PRINTABLE_MIN = 0x21;
const PRINTABLE_MAX = 0x7e;

/** Result of reading an uncompressed name: the presentation form and the offset just past it, or why not. */
export type NameRead = { ok: true; name: string; end: number } | { ok: false; reason: string };

/**
 * Reads an uncompressed wire name at `offset`. Compression pointers are refused: the question name is the first
 * name in a query and a pointer may only refer to earlier data (RFC 1035 §4.1.4), which would be the header.
 * Never throws.
 */
export function readName(buf: Uint8Array, offset: number): NameRead {
  const labels: string[] = [];
  let at = offset;
  let wireLength = 1; // the root label
  for (;;) {
    const len = buf[at];
    if (len === undefined) return { ok: false, reason: `name at offset ${offset} runs past end of packet` };
    if (len === 0) return { ok: true, name: labels.join('.'), end: at + 1 };
    if (len > MAX_LABEL_LENGTH) {
      const what = (len & 0xc0) === 0xc0 ? 'compression pointer' : 'reserved label type';
      return { ok: false, reason: `${what} 0x${len.toString(16)} in question name at offset ${at}` };
    }
    wireLength += len + 1;
    if (wireLength > MAX_NAME_WIRE_LENGTH) {
      return { ok: false, reason: `name longer than ${MAX_NAME_WIRE_LENGTH} octets` };
    }
    if (at + 1 + len > buf.length) {
      return { ok: false, reason: `label of ${len} octets at offset ${at} runs past end of packet` };
    }
    labels.push(presentLabel(buf, at + 1, len));
    at += 1 + len;
  }
}

function presentLabel(buf: Uint8Array, start: number, len: number): string {
  let s = '';
  for (let i = start; i < start + len; i++) {
    const b = buf[i] ?? 0;
    if (b === DOT || b === BACKSLASH) s += `\\${String.fromCharCode(b)}`;
    else if (b >= PRINTABLE_MIN && b <= PRINTABLE_MAX) s += String.fromCharCode(b);
    else s += `\\${b.toString().padStart(3, '0')}`;
  }
  return s;
}

/**
 * Lower-cases a presentation name. Presentation names are ASCII (other bytes are \DDD escapes), so this folds
 * exactly A-Z as RFC 4343 §3 requires.
 */
export function lowerName(name: string): string {
  return name.toLowerCase();
}

/**
 * Encodes a presentation name (trailing dot optional; `''` and `'.'` are the root) to wire form.
 * @throws Error naming the name and the violated limit: empty label, label over 63 octets, name over 255 octets,
 *   a character outside printable ASCII (write it as \DDD), or a bad escape.
 */
export function encodeName(name: string): Uint8Array {
  const labels = splitLabels(name);
  let wireLength = 1;
  for (const label of labels) {
    if (label.length > MAX_LABEL_LENGTH) {
      throw new Error(
        `DNS name ${JSON.stringify(name)}: label of ${label.length} octets exceeds ${MAX_LABEL_LENGTH}`,
      );
    }
    wireLength += label.length + 1;
  }
  if (wireLength > MAX_NAME_WIRE_LENGTH) {
    throw new Error(`DNS name ${JSON.stringify(name)}: ${wireLength} octets exceeds ${MAX_NAME_WIRE_LENGTH}`);
  }
  const out = new Uint8Array(wireLength);
  let at = 0;
  for (const label of labels) {
    out[at++] = label.length;
    out.set(label, at);
    at += label.length;
  }
  return out; // the final byte is already 0: the root label
}

function splitLabels(name: string): number[][] {
  const text = name === '.' ? '' : name;
  const fail = (why: string): Error => new Error(`DNS name ${JSON.stringify(name)}: ${why}`);
  const labels: number[][] = [];
  let cur: number[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i++);
    if (c === DOT) {
      if (cur.length === 0) throw fail(`empty label at position ${i - 1}`);
      labels.push(cur);
      cur = [];
    } else if (c === BACKSLASH) {
      const digits = text.slice(i, i + 3);
      if (/^\d{3}$/.test(digits)) {
        const v = Number(digits);
        if (v > 255) throw fail(`escape \\${digits} exceeds 255`);
        cur.push(v);
        i += 3;
      } else {
        const e = text.charCodeAt(i++);
        if (!(e >= PRINTABLE_MIN && e <= PRINTABLE_MAX)) throw fail(`bad escape at position ${i - 2}`);
        cur.push(e);
      }
    } else if (c >= PRINTABLE_MIN && c <= PRINTABLE_MAX) {
      cur.push(c);
    } else {
      throw fail(`character code ${c} at position ${i - 1} is outside printable ASCII; escape it as \\DDD`);
    }
  }
  if (cur.length > 0) labels.push(cur);
  return labels;
}

/** Compares two wire names ignoring ASCII case; length octets are at most 63, below 'A', so folding them is safe. */
export function sameWireName(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (fold(a[i] ?? 0) !== fold(b[i] ?? 0)) return false;
  }
  return true;
}

function fold(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b | 0x20 : b;
}
