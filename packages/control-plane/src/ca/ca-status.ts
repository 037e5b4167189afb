import type { CaCertificate, CaStatus } from '@weft/api';
import { certificateInfo, certificateFingerprint } from '@weft/pki';
import type { CaRotation } from './ca-rotation';
import type { MeshAuthority } from './mesh-authority';

/** `weftctl ca status`: the phase, the roots in the bundle, the signer, and who holds the phase up. */
export function caStatus(mesh: MeshAuthority, rotation: CaRotation): CaStatus {
  const record = rotation.record;
  const next = record.next ? certificateFingerprint(record.next.certificatePem) : '';
  const old = record.oldRootPem ? certificateFingerprint(record.oldRootPem) : '';
  const role = (fingerprint: string): string => (fingerprint === next ? 'new' : fingerprint === old ? 'old' : 'active');
  const progress = rotation.progress();
  const signer = mesh.ca.signerPem !== mesh.ca.rootPem ? describe(mesh.ca.signerPem, 'intermediate') : null;
  return {
    phase: record.phase,
    phaseSinceMs: record.phaseSinceMs,
    startedAtMs: record.startedAtMs,
    roots: mesh.trustBundlePem.map((pem) => describe(pem, role(certificateFingerprint(pem)))),
    signingRootFingerprint: mesh.rootFingerprint,
    signer,
    proxies: [...progress.proxies],
    waitingFor: progress.waitingFor,
    lastCompletedAtMs: record.lastCompletedAtMs,
  };
}

function describe(pem: string, role: string): CaCertificate {
  const info = certificateInfo(pem);
  return {
    fingerprint: info.fingerprintSha256,
    subject: info.subject.replace(/\n/g, ', '),
    notBeforeMs: info.notBefore.getTime(),
    notAfterMs: info.notAfter.getTime(),
    role,
  };
}
