import { isIP } from 'node:net';
import type { SanSet } from '@weft/pki';

/** Splits `--san` values into DNS names and IP addresses. */
export function classifySans(names: readonly string[]): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const raw of names) {
    const name = raw.replace(/^\[(.*)\]$/, '$1');
    if (isIP(name)) ipAddresses.push(name);
    else dnsNames.push(name.toLowerCase());
  }
  return { dnsNames, ipAddresses };
}

/** Order- and spelling-insensitive comparison (IPv6 `::1` equals `0:0:0:0:0:0:0:1`). */
export function sameSans(a: SanSet, b: SanSet): boolean {
  const key = (s: SanSet): string =>
    JSON.stringify([
      [...s.uris].sort(),
      s.dnsNames.map((d) => d.toLowerCase()).sort(),
      s.ipAddresses.map(normalizeIp).sort(),
    ]);
  return key(a) === key(b);
}

function normalizeIp(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.toLowerCase().split('::') as [string?, string?];
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const fill = ip.includes('::') ? new Array<string>(8 - left.length - right.length).fill('0') : [];
  return [...left, ...fill, ...right].map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}
