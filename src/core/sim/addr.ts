/**
 * IPv4 address arithmetic for the simulator. Parsing and validation go through ipaddr.js; the
 * hot path (matching 320,000 rules) works on 32-bit integers parsed once.
 */
import * as ipaddr from 'ipaddr.js';

const memo = new Map<string, number | undefined>();

/** Parses a dotted IPv4 address to an unsigned 32-bit integer, or undefined. Memoised: the simulator asks for the same few addresses over and over. */
export function ip4(s: string): number | undefined {
  const hit = memo.get(s);
  if (hit !== undefined || memo.has(s)) return hit;
  let v: number | undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) {
    const b = ipaddr.IPv4.parse(s).octets;
    v = ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
  }
  if (memo.size > 100000) memo.clear();
  memo.set(s, v);
  return v;
}

/** Formats an unsigned 32-bit integer as a dotted IPv4 address. */
export function ip4str(n: number): string {
  // Memoised for unsigned 32-bit integers (the string is a function of the number alone): a trace
  // formats the same few addresses into every step's packet view. Anything else is formatted as is.
  if (n !== n >>> 0) return ip4strUncached(n);
  let v = strMemo.get(n);
  if (v === undefined) {
    if (strMemo.size > 100000) strMemo.clear();
    strMemo.set(n, (v = ip4strUncached(n)));
  }
  return v;
}

const strMemo = new Map<number, string>();

/** ip4str without the memo. */
export function ip4strUncached(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The netmask of a prefix length as an unsigned 32-bit integer. */
export function maskOf(prefixLen: number): number {
  return prefixLen <= 0 ? 0 : prefixLen >= 32 ? 0xffffffff : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** True when `a` lies in `net/prefixLen`. */
export function inPrefix(a: number, net: number, prefixLen: number): boolean {
  const m = maskOf(prefixLen);
  return ((a & m) >>> 0) === ((net & m) >>> 0);
}

/** Parses `1.2.3.4`, `1.2.3.4/24` or `1.2.3.4/255.255.255.0` into network and mask integers. */
export function parseCidr(s: string): { net: number; mask: number } | undefined {
  const [a, p] = s.split('/');
  const n = ip4(a);
  if (n === undefined) return undefined;
  if (p === undefined) return { net: n, mask: 0xffffffff };
  if (/^\d+$/.test(p)) {
    const m = maskOf(Number(p));
    return { net: (n & m) >>> 0, mask: m };
  }
  const m = ip4(p);
  return m === undefined ? undefined : { net: (n & m) >>> 0, mask: m };
}
