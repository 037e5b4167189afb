import { createPrivateKey, X509Certificate } from 'node:crypto';
import * as path from 'node:path';
import { CONTROL_PLANE_NAMESPACE, controlPlaneSpiffeId, OPERATOR_SERVICE, spiffeId, type Logger, type OperatorConfig } from '@weft/api';
import { generateKeyPair, sanValues, splitPemChain, verifyChain } from '@weft/pki';
import type { MeshAuthority } from '../ca/mesh-authority';
import { DATA_FILES, isRecord, readJsonFile, writeJsonAtomic } from './data-dir';
import { RENEW_BEFORE_MS } from './serving-cert';

const VALIDITY_MS = 365 * 86_400_000;

export function operatorSpiffeId(trustDomain: string): string {
  return spiffeId({ trustDomain, namespace: CONTROL_PLANE_NAMESPACE, service: OPERATOR_SERVICE });
}

/**
 * Writes weftctl.json with the current endpoint and trust bundle (both roots during a rotation).
 * The operator key and certificate are kept while they are valid for more than 30 days and come
 * from the signing root, so copies of the file that operators made keep working until a root
 * rotation re-issues them.
 */
export async function writeOperatorConfig(dataDir: string, mesh: MeshAuthority, endpoint: string, log: Logger): Promise<OperatorConfig> {
  const file = path.join(dataDir, DATA_FILES.operatorConfig);
  const id = operatorSpiffeId(mesh.trustDomain);
  const previous = await readJsonFile(file);
  let certificatePem: string;
  let privateKeyPem: string;
  const reusable = reusableCredential(previous, id, mesh);
  if (reusable) {
    ({ certificatePem, privateKeyPem } = reusable);
  } else {
    const keys = generateKeyPair();
    const issued = mesh.ca.issue({ publicKeyPem: keys.publicKeyPem, ttlMs: VALIDITY_MS, usage: 'client', uris: [id] });
    certificatePem = issued.chainPem.join('');
    privateKeyPem = keys.privateKeyPem;
    log.info('issued the operator certificate', { spiffeId: id, notAfter: issued.notAfter.toISOString(), file });
  }
  const config: OperatorConfig = {
    endpoint,
    trustDomain: mesh.trustDomain,
    caPem: mesh.trustBundlePem.join(''),
    certificatePem,
    privateKeyPem,
    controlPlaneSpiffeId: controlPlaneSpiffeId(mesh.trustDomain),
  };
  await writeJsonAtomic(file, config);
  return config;
}

function reusableCredential(value: unknown, id: string, mesh: MeshAuthority): { certificatePem: string; privateKeyPem: string } | undefined {
  if (!isRecord(value)) return undefined;
  const certificatePem = value['certificatePem'];
  const privateKeyPem = value['privateKeyPem'];
  if (typeof certificatePem !== 'string' || typeof privateKeyPem !== 'string') return undefined;
  try {
    const cert = new X509Certificate(certificatePem);
    if (!cert.checkPrivateKey(createPrivateKey(privateKeyPem))) return undefined;
    if (new Date(cert.validTo).getTime() - Date.now() < RENEW_BEFORE_MS) return undefined;
    const uris = sanValues(cert.subjectAltName, 'URI:');
    if (uris.length !== 1 || uris[0] !== id) return undefined;
    // The signing root, not the whole bundle: a root rotation re-issues it from the new root.
    if (!verifyChain(splitPemChain(certificatePem), [mesh.ca.rootPem]).ok) return undefined;
  } catch {
    return undefined;
  }
  return { certificatePem, privateKeyPem };
}
