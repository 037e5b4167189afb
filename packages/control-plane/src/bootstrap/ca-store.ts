import * as path from 'node:path';
import { type Logger } from '@weft/api';
import { CertificateAuthority, certificateFingerprint } from '@weft/pki';
import { ControlPlaneError } from '../errors';
import { DATA_FILES, isRecord, readJsonFile, readTextFile, writeFileAtomic, writeJsonAtomic } from './data-dir';

/** The mesh's root of trust as loaded from (or first written to) the data directory. */
export interface MeshAuthority {
  readonly ca: CertificateAuthority;
  readonly trustDomain: string;
  /** SHA-256 of the root's DER, hex: what join tokens pin. */
  readonly rootFingerprint: string;
  /** Every root a workload should trust; one today, two during a future root rotation. */
  readonly trustBundlePem: readonly string[];
  /** True when this start created the CA. */
  readonly created: boolean;
}

interface MeshFile {
  readonly trustDomain: string;
  readonly createdAtMs: number;
}

/**
 * Loads the CA, or creates it on first start. `mesh.json` is written last and marks a completed
 * first start: without it, leftover CA files are from a start that never served, so replacing
 * them orphans nobody. With it, missing CA files are an error, never a silent new root (that
 * would cut every sidecar off the mesh).
 */
export async function loadOrCreateCa(dataDir: string, requestedTrustDomain: string, log: Logger): Promise<MeshAuthority> {
  const meshPath = path.join(dataDir, DATA_FILES.meshJson);
  const certPath = path.join(dataDir, DATA_FILES.caCert);
  const keyPath = path.join(dataDir, DATA_FILES.caKey);
  const mesh = parseMeshFile(await readJsonFile(meshPath), meshPath);

  if (!mesh) {
    const ca = CertificateAuthority.createRoot(requestedTrustDomain);
    const material = ca.exportMaterial();
    await writeFileAtomic(keyPath, material.privateKeyPem);
    await writeFileAtomic(certPath, material.certificatePem);
    await writeJsonAtomic(meshPath, { trustDomain: requestedTrustDomain, createdAtMs: Date.now() } satisfies MeshFile);
    log.info('created root CA', { trustDomain: requestedTrustDomain, rootFingerprint: certificateFingerprint(ca.rootPem) });
    return authority(ca, requestedTrustDomain, true);
  }

  const certificatePem = await readTextFile(certPath);
  const privateKeyPem = await readTextFile(keyPath);
  if (certificatePem === undefined || privateKeyPem === undefined) {
    throw new ControlPlaneError(
      'WEFT_ERR_DATA_DIR',
      `${dataDir} has ${DATA_FILES.meshJson} but not ${DATA_FILES.caCert} and ${DATA_FILES.caKey}: restore them from a backup (a new root would cut every sidecar off the mesh)`,
    );
  }
  let ca: CertificateAuthority;
  try {
    ca = CertificateAuthority.fromPem({ certificatePem, privateKeyPem });
  } catch (err) {
    throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `the CA in ${dataDir} cannot be loaded: ${(err as Error).message}`, { cause: err });
  }
  if (mesh.trustDomain !== requestedTrustDomain) {
    log.warn('keeping the stored trust domain', {
      trustDomain: mesh.trustDomain,
      requested: requestedTrustDomain,
      reason: '--trust-domain is used at first start only',
    });
  }
  return authority(ca, mesh.trustDomain, false);
}

function authority(ca: CertificateAuthority, trustDomain: string, created: boolean): MeshAuthority {
  return Object.freeze({
    ca,
    trustDomain,
    rootFingerprint: certificateFingerprint(ca.rootPem),
    trustBundlePem: Object.freeze([ca.rootPem]),
    created,
  });
}

function parseMeshFile(value: unknown, file: string): MeshFile | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || typeof value['trustDomain'] !== 'string' || value['trustDomain'] === '') {
    throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `${file} has no trustDomain: restore it from a backup`);
  }
  return { trustDomain: value['trustDomain'], createdAtMs: typeof value['createdAtMs'] === 'number' ? value['createdAtMs'] : 0 };
}
