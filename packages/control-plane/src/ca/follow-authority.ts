import type { Logger } from '@weft/api';
import { writeOperatorConfig } from '../bootstrap/operator-credential';
import { ensureServingCertificate } from '../bootstrap/serving-cert';
import type { MemoryCertificateProvider } from '../tls/certificate-provider';
import type { MeshAuthority } from './mesh-authority';

export interface AuthorityFollowers {
  readonly dataDir: string;
  readonly mesh: MeshAuthority;
  readonly sans: readonly string[];
  readonly provider: MemoryCertificateProvider;
  /** The endpoint written into weftctl.json. */
  readonly endpoint: string;
  readonly log: Logger;
  /** Rebuild and push snapshots (they carry the trust bundle and the signing root). */
  readonly snapshotsChanged: () => void;
}

/**
 * Re-derives everything that hangs off the mesh's trust after it changed, in this order: the
 * serving certificate (re-issued when the signing root changed), the gRPC server's trusted roots
 * and identity, weftctl.json (operator certificate from the signing root, CA = the whole bundle),
 * then the snapshots that tell sidecars. New handshakes pick each one up; open connections keep
 * what they were made with.
 */
export async function followAuthority(f: AuthorityFollowers): Promise<void> {
  const { credential, reissued } = await ensureServingCertificate(f.dataDir, f.mesh, f.sans, f.log);
  if (reissued) f.log.info('serving certificate re-issued', { signingRootFingerprint: f.mesh.rootFingerprint, notAfter: credential.notAfter.toISOString() });
  f.provider.update({ caPem: f.mesh.trustBundlePem.join(''), ...credential });
  await writeOperatorConfig(f.dataDir, f.mesh, f.endpoint, f.log);
  f.snapshotsChanged();
}
