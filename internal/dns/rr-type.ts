// Type and class mnemonics. The names match dns-packet 5.x (types.js, classes.js) so values read here compare
// equal to what dns-packet decodes, plus SVCB/HTTPS (RFC 9460) which dns-packet does not know.

const TYPE_CODES: ReadonlyMap<string, number> = new Map([
  ['A', 1],
  ['NS', 2],
  ['CNAME', 5],
  ['SOA', 6],
  ['NULL', 10],
  ['PTR', 12],
  ['HINFO', 13],
  ['MX', 15],
  ['TXT', 16],
  ['RP', 17],
  ['AFSDB', 18],
  ['SIG', 24],
  ['KEY', 25],
  ['AAAA', 28],
  ['LOC', 29],
  ['SRV', 33],
  ['NAPTR', 35],
  ['KX', 36],
  ['CERT', 37],
  ['DNAME', 39],
  ['OPT', 41],
  ['APL', 42],
  ['DS', 43],
  ['SSHFP', 44],
  ['IPSECKEY', 45],
  ['RRSIG', 46],
  ['NSEC', 47],
  ['DNSKEY', 48],
  ['DHCID', 49],
  ['NSEC3', 50],
  ['NSEC3PARAM', 51],
  ['TLSA', 52],
  ['HIP', 55],
  ['CDS', 59],
  ['CDNSKEY', 60],
  ['SVCB', 64],
  ['HTTPS', 65],
  ['SPF', 99],
  ['TKEY', 249],
  ['TSIG', 250],
  ['IXFR', 251],
  ['AXFR', 252],
  ['ANY', 255],
  ['CAA', 257],
  ['TA', 32768],
  ['DLV', 32769],
]);

const CLASS_CODES: ReadonlyMap<string, number> = new Map([
  ['IN', 1],
  ['CS', 2],
  ['CH', 3],
  ['HS', 4],
  ['ANY', 255],
]);

const TYPE_NAMES = invert(TYPE_CODES);
const CLASS_NAMES = invert(CLASS_CODES);

function invert(m: ReadonlyMap<string, number>): ReadonlyMap<number, string> {
  return new Map([...m].map(([name, code]) => [code, name]));
}

const UNKNOWN = /^UNKNOWN_(\d{1,5})$/;

function fromName(names: ReadonlyMap<string, number>, name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = names.get(upper);
  if (known !== undefined) return known;
  const m = UNKNOWN.exec(upper);
  if (m?.[1] === undefined) return undefined;
  const n = Number(m[1]);
  return n <= 0xffff ? n : undefined;
}

/** Mnemonic for a 16-bit RR type code; `UNKNOWN_<n>` when unnamed. */
export function typeName(code: number): string {
  return TYPE_NAMES.get(code) ?? `UNKNOWN_${code}`;
}

/** RR type code for a mnemonic (case-insensitive) or `UNKNOWN_<n>`; undefined when neither. */
export function typeCode(name: string): number | undefined {
  return fromName(TYPE_CODES, name);
}

/** Mnemonic for a 16-bit class code; `UNKNOWN_<n>` when unnamed. */
export function className(code: number): string {
  return CLASS_NAMES.get(code) ?? `UNKNOWN_${code}`;
}

/** Class code for a mnemonic (case-insensitive) or `UNKNOWN_<n>`; undefined when neither. */
export function classCode(name: string): number | undefined {
  return fromName(CLASS_CODES, name);
}
