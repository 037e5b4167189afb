/**
 * The `spiffe://` URIs in a certificate's subjectAltName as Node renders it
 * (`URI:spiffe://..., DNS:...`; newer versions quote values with special characters).
 */
export function spiffeIdsIn(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  for (const part of subjectAltName.split(', ')) {
    const value = part.startsWith('URI:') ? part.slice(4).replace(/^"(.*)"$/, '$1') : undefined;
    if (value?.startsWith('spiffe://')) out.push(value);
  }
  return out;
}
