import { isIP } from 'node:net';

export interface SanSet {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

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

/**
 * Reads a certificate's SANs from node's `subjectAltName` text
 * (`DNS:a, IP Address:127.0.0.1, URI:spiffe://...`). Node quotes values that contain a comma
 * or a quote as JSON strings, so those are unquoted here.
 */
export function parseSubjectAltName(text: string | undefined): SanSet {
  const uris: string[] = [];
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const part of splitSan(text ?? '')) {
    const colon = part.indexOf(':');
    if (colon < 0) continue;
    const type = part.slice(0, colon);
    const value = unquote(part.slice(colon + 1));
    if (type === 'URI') uris.push(value);
    else if (type === 'DNS') dnsNames.push(value);
    else if (type === 'IP Address') ipAddresses.push(value);
  }
  return { uris, dnsNames, ipAddresses };
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

function splitSan(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '"' && text[i - 1] !== '\\') quoted = !quoted;
    if (ch === ',' && !quoted) {
      parts.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value;
  try {
    return JSON.parse(value) as string;
  } catch {
    return value;
  }
}
