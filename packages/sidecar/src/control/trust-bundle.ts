import { certificateInfo, splitPemChain } from '@weft/pki/workload';
import { ConfigCompileError } from '../config/compiled-config';

/**
 * Normalises and checks a pushed trust bundle: every entry must be a CA certificate. A bad entry
 * rejects the snapshot (NACK) rather than leaving us with roots no handshake can use. An empty
 * bundle means "unchanged": we never drop every root.
 */
export function checkTrustBundle(pems: readonly string[]): string[] {
  const bundle = pems.flatMap(splitPemChain);
  if (pems.some((p) => p.trim() !== '') && bundle.length === 0) throw new ConfigCompileError('trustBundlePem holds no PEM certificate');
  bundle.forEach((pem, i) => {
    let isCa: boolean;
    try {
      isCa = certificateInfo(pem).isCa;
    } catch (err) {
      throw new ConfigCompileError(`trustBundlePem[${i}] is not a certificate: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (!isCa) throw new ConfigCompileError(`trustBundlePem[${i}] is not a CA certificate`);
  });
  return bundle;
}

/** Same roots, in any order and whatever the whitespace around them. */
export function sameBundle(a: readonly string[], b: readonly string[]): boolean {
  const norm = (list: readonly string[]): string => list.flatMap(splitPemChain).map((p) => p.trim()).sort().join('\n');
  return norm(a) === norm(b);
}
