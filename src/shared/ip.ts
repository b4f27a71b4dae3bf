import { isIPv4, isIPv6 } from 'node:net';

/**
 * Canonical form of a client IP for counting:
 * - IPv4 as is; IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) as IPv4, so
 *   one client does not get two counters;
 * - other IPv6 reduced to its /64 prefix, lowercase and compressed (RFC 5952), e.g.
 *   `2001:db8:0:1::/64`: a single host is usually given a whole /64 (RFC 6177) and can rotate
 *   through 2^64 addresses, so per-address counters would be no limit at all.
 * Throws TypeError for anything that is not an IP: the client-ip stage must hand us a real one.
 */
export function normaliseIp(ip: string): string {
  if (isIPv4(ip)) return ip;
  const bare = ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
  const noZone = bare.split('%')[0] ?? '';
  if (!isIPv6(noZone)) throw new TypeError('normaliseIp: not an IPv4 or IPv6 address');
  const hextets = expandIPv6(noZone);
  const isMapped = hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
  if (isMapped) {
    const [hi = 0, lo = 0] = hextets.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${compressIPv6([...hextets.slice(0, 4), 0, 0, 0, 0])}/64`;
}

/** Eight 16-bit groups of a valid IPv6 address (validated by the caller), with any dotted IPv4 tail. */
function expandIPv6(addr: string): number[] {
  let text = addr.toLowerCase();
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const maybeV4 = text.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = maybeV4.split('.').map(Number);
    tail.push((a << 8) | b, (c << 8) | d);
    text = text.slice(0, lastColon + 1) + '0'; // placeholder, removed below
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const [head = '', rest] = text.split('::');
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  if (tail.length > 0) (rest === undefined ? left : right).pop();
  const fill = 8 - tail.length - left.length - right.length;
  return [...left, ...new Array<number>(rest === undefined ? 0 : fill).fill(0), ...right, ...tail];
}

/** RFC 5952 §4: lowercase, no leading zeros, the longest run (≥2, first on a tie) of zero groups as `::`. */
function compressIPv6(hextets: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < hextets.length; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < hextets.length && hextets[j] === 0) j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
