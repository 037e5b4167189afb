import { generateKeyPair } from '@weft/pki';
import { controlPlaneSpiffeId } from '@weft/api';
import type { MeshAuthority } from '../ca/mesh-authority';
import type { VerifierCredential } from './endpoint-verify';

/** Short-lived and in memory only: it is reissued long before it matters, and never written anywhere. */
const VALIDITY_MS = 24 * 3_600_000;

/**
 * The client certificate the control plane presents when it dials an announced address (a
 * sidecar's inbound listener requires one chained to the trust bundle). It carries the control
 * plane's SPIFFE ID and client usage only. Issued on first use, and again at half its life or
 * when the signing root changes (a root rotation); the key pair is made once.
 */
export function verifierCredential(mesh: MeshAuthority): () => VerifierCredential {
  let keys: { publicKeyPem: string; privateKeyPem: string } | undefined;
  let current: { credential: VerifierCredential; renewAtMs: number; root: string } | undefined;
  return () => {
    const now = Date.now();
    if (!current || now >= current.renewAtMs || current.root !== mesh.rootFingerprint) {
      keys ??= generateKeyPair();
      const issued = mesh.ca.issue({ publicKeyPem: keys.publicKeyPem, ttlMs: VALIDITY_MS, usage: 'client', uris: [controlPlaneSpiffeId(mesh.trustDomain)] });
      current = {
        credential: { caPem: mesh.trustBundlePem.join(''), certificatePem: issued.chainPem.join(''), privateKeyPem: keys.privateKeyPem },
        renewAtMs: now + VALIDITY_MS / 2,
        root: mesh.rootFingerprint,
      };
    }
    // The roots to trust may change without the signer changing (a rotation adds one first).
    return { ...current.credential, caPem: mesh.trustBundlePem.join('') };
  };
}
