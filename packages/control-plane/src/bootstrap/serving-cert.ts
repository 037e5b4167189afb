import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as path from 'node:path';
import { CONTROL_PLANE_SERVICE, controlPlaneSpiffeId, type Logger } from '@weft/api';
import { generateKeyPair, parseSubjectAltName, splitPemChain, verifyChain, type SanSet } from '@weft/pki';
import type { MeshAuthority } from '../ca/mesh-authority';
import { DATA_FILES, readTextFile, writeFileAtomic } from './data-dir';
import { classifySans, sameSans } from './san';

const VALIDITY_MS = 365 * 86_400_000;
/** Re-issued when less than this is left, so a restart well before expiry always renews. */
export const RENEW_BEFORE_MS = 30 * 86_400_000;

/** What the gRPC server presents. */
export interface ServingCredential {
  /** Leaf, intermediates, then the root: sidecars find the root here on first contact and pin it. */
  readonly chainPem: string;
  readonly privateKeyPem: string;
  readonly notAfter: Date;
  readonly spiffeId: string;
}

export function wantedServingSans(trustDomain: string, extraSans: readonly string[]): SanSet {
  const extra = classifySans(extraSans);
  return {
    uris: [controlPlaneSpiffeId(trustDomain)],
    dnsNames: [...new Set(['localhost', CONTROL_PLANE_SERVICE, ...extra.dnsNames])],
    ipAddresses: [...new Set(['127.0.0.1', '::1', ...extra.ipAddresses])],
  };
}

/**
 * Returns the serving certificate from the data directory, issuing a new one when it is missing,
 * expires within 30 days, names different SANs, or was not issued by the current root.
 */
export async function ensureServingCertificate(
  dataDir: string,
  mesh: MeshAuthority,
  extraSans: readonly string[],
  log: Logger,
): Promise<{ credential: ServingCredential; reissued: boolean }> {
  const certPath = path.join(dataDir, DATA_FILES.servingCert);
  const keyPath = path.join(dataDir, DATA_FILES.servingKey);
  const wanted = wantedServingSans(mesh.trustDomain, extraSans);
  const id = controlPlaneSpiffeId(mesh.trustDomain);

  const certPem = await readTextFile(certPath);
  const keyPem = await readTextFile(keyPath);
  if (certPem !== undefined && keyPem !== undefined) {
    const reason = whyReissue(certPem, keyPem, wanted, mesh);
    if (reason === undefined) {
      const notAfter = new Date(new X509Certificate(certPem).validTo);
      return { credential: { chainPem: withRoot(certPem, mesh), privateKeyPem: keyPem, notAfter, spiffeId: id }, reissued: false };
    }
    log.info('re-issuing the serving certificate', { reason });
  }

  const keys = generateKeyPair();
  const issued = mesh.ca.issue({ publicKeyPem: keys.publicKeyPem, ttlMs: VALIDITY_MS, usage: 'server', ...wanted });
  const leafAndIntermediates = issued.chainPem.join('');
  await writeFileAtomic(keyPath, keys.privateKeyPem);
  await writeFileAtomic(certPath, leafAndIntermediates);
  return {
    credential: { chainPem: withRoot(leafAndIntermediates, mesh), privateKeyPem: keys.privateKeyPem, notAfter: issued.notAfter, spiffeId: id },
    reissued: true,
  };
}

function withRoot(leafAndIntermediates: string, mesh: MeshAuthority): string {
  const body = leafAndIntermediates.endsWith('\n') ? leafAndIntermediates : `${leafAndIntermediates}\n`;
  return `${body}${mesh.ca.rootPem}`;
}

function whyReissue(certPem: string, keyPem: string, wanted: SanSet, mesh: MeshAuthority): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) return 'the key does not match the certificate';
  } catch (err) {
    return `unreadable: ${(err as Error).message}`;
  }
  if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS) return 'expires within 30 days';
  if (!sameSans(parseSubjectAltName(cert.subjectAltName), wanted)) return 'the SANs changed';
  // The signing root, not the whole bundle: a root rotation re-issues it from the new root.
  if (!verifyChain(splitPemChain(certPem), [mesh.ca.rootPem]).ok) return 'not issued by the current root';
  return undefined;
}
