/**
 * Reading a certificate's subject alternative names from the text Node renders
 * (`X509Certificate#subjectAltName`, `PeerCertificate#subjectaltname`):
 * `DNS:a, IP Address:127.0.0.1, URI:spiffe://...`. Node (since 17.3.1) writes a value that
 * contains a comma, a quote or other special characters as a JSON string (`URI:"spiffe://a,b"`),
 * so entries are split outside quotes and quoted values are unquoted.
 */

export interface SanSet {
  readonly uris: readonly string[];
  readonly dnsNames: readonly string[];
  readonly ipAddresses: readonly string[];
}

type SanType = 'URI:' | 'DNS:' | 'IP Address:';

/** Every SAN of one type, in certificate order. */
export function sanValues(text: string | undefined, type: SanType): string[] {
  return collect(text, type, '');
}

export function parseSubjectAltName(text: string | undefined): SanSet {
  return { uris: collect(text, 'URI:', ''), dnsNames: collect(text, 'DNS:', ''), ipAddresses: collect(text, 'IP Address:', '') };
}

/**
 * The `spiffe://` URI SANs. Read per TLS connection on the sidecar's inbound path, so the scan
 * allocates only the matching values and the result array (no split, no per-entry strings).
 */
export function spiffeIdsIn(subjectAltName: string | undefined): string[] {
  return collect(subjectAltName, 'URI:', 'spiffe://');
}

function collect(text: string | undefined, type: SanType, valuePrefix: string): string[] {
  const out: string[] = [];
  if (!text) return out;
  let start = 0;
  while (start < text.length) {
    while (text.charCodeAt(start) === 0x20) start++; // the space after each ', '
    const end = entryEnd(text, start);
    if (text.startsWith(type, start)) {
      const from = start + type.length;
      const value = text.charCodeAt(from) === 0x22 ? unquote(text.slice(from, end)) : text.slice(from, end);
      if (value.startsWith(valuePrefix)) out.push(value);
    }
    start = end + 1;
  }
  return out;
}

/** The index of the comma that ends the entry starting at `start` (or the text's length), skipping quoted commas. */
function entryEnd(text: string, start: number): number {
  let quoted = false;
  for (let i = start; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (quoted && ch === 0x5c) i++; // a backslash escapes the next character inside a JSON string
    else if (ch === 0x22) quoted = !quoted;
    else if (ch === 0x2c && !quoted) return i;
  }
  return text.length;
}

function unquote(value: string): string {
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'string' ? parsed : value;
  } catch {
    return value;
  }
}
