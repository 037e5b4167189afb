import * as path from 'node:path';
import { type Logger } from '@weft/api';
import { CertificateAuthority, certificateFingerprint, type CaMaterial } from '@weft/pki';
import { loadOperatorCa, type OperatorCaFiles } from '../ca/byo-ca';
import { readCaFiles, writeCaFiles } from '../ca/ca-files';
import { IDLE, readRotation, signerFileFor, stateFor, type RotationRecord } from '../ca/ca-rotation-file';
import { MeshAuthority } from '../ca/mesh-authority';
import { ControlPlaneError } from '../errors';
import { DATA_FILES, isRecord, readJsonFile, writeJsonAtomic } from './data-dir';

export { MeshAuthority } from '../ca/mesh-authority';

export interface LoadedCa {
  readonly mesh: MeshAuthority;
  /** The root rotation in progress, as `ca-rotation.json` left it (IDLE when none). */
  readonly rotation: RotationRecord;
}

interface MeshFile {
  readonly trustDomain: string;
  readonly createdAtMs: number;
}

/**
 * Loads the CA, or creates it on first start (or takes the operator's, `operatorCa`). `mesh.json`
 * is written last and marks a completed first start: without it, leftover CA files are from a
 * start that never served, so replacing them orphans nobody. With it, missing CA files are an
 * error, never a silent new root (that would cut every sidecar off the mesh).
 *
 * A root rotation in progress decides who signs and which roots are trusted (`stateFor`).
 */
export async function loadOrCreateCa(dataDir: string, requestedTrustDomain: string, log: Logger, operatorCa?: OperatorCaFiles): Promise<LoadedCa> {
  const meshPath = path.join(dataDir, DATA_FILES.meshJson);
  const mesh = parseMeshFile(await readJsonFile(meshPath), meshPath);

  if (!mesh) {
    const material = operatorCa ? await loadOperatorCa(operatorCa) : CertificateAuthority.createRoot(requestedTrustDomain).exportMaterial();
    const ca = CertificateAuthority.fromPem(material);
    await writeCaFiles(dataDir, material);
    await writeJsonAtomic(meshPath, { trustDomain: requestedTrustDomain, createdAtMs: Date.now() } satisfies MeshFile);
    log.info(operatorCa ? "using the operator's CA" : 'created root CA', {
      trustDomain: requestedTrustDomain,
      rootFingerprint: certificateFingerprint(ca.rootPem),
      ...(ca.signerPem !== ca.rootPem ? { signerFingerprint: certificateFingerprint(ca.signerPem) } : {}),
    });
    return { mesh: new MeshAuthority(requestedTrustDomain, { ca, trustBundlePem: [ca.rootPem] }, true), rotation: IDLE };
  }

  const rotation = await readRotation(dataDir);
  // A rotation that reached reissue owns ca.pem: rewriting it finishes a switch a crash cut short.
  const pending = signerFileFor(rotation);
  if (pending) await writeCaFiles(dataDir, pending);
  const { material, missing } = await readCaFiles(dataDir);
  if (!material) {
    throw new ControlPlaneError(
      'WEFT_ERR_DATA_DIR',
      `${dataDir} has ${DATA_FILES.meshJson} but not ${missing.join(' and ')}: restore them from a backup (a new root would cut every sidecar off the mesh)`,
    );
  }
  const ca = loadStored(material, dataDir);
  if (mesh.trustDomain !== requestedTrustDomain) {
    log.warn('keeping the stored trust domain', { trustDomain: mesh.trustDomain, requested: requestedTrustDomain, reason: '--trust-domain is used at first start only' });
  }
  if (operatorCa) {
    log.warn('keeping the stored CA', {
      rootFingerprint: certificateFingerprint(ca.rootPem),
      reason: '--ca-cert, --ca-key, --ca-chain and --root-cert are used at first start only; `weftctl ca rotate-root` replaces the root of a running mesh',
    });
  }
  return { mesh: new MeshAuthority(mesh.trustDomain, stateFor(rotation, ca), false), rotation };
}

/**
 * A CA that cannot be loaded stops the start, unlike a policy resource (`store/store-load.ts`):
 * there is nothing safe to start without. A new root would cut every sidecar off the mesh, and
 * serving without a signer would let every certificate expire; the operator must restore it.
 */
function loadStored(material: CaMaterial, dataDir: string): CertificateAuthority {
  try {
    return CertificateAuthority.fromPem(material);
  } catch (err) {
    throw new ControlPlaneError(
      'WEFT_ERR_DATA_DIR',
      `the CA in ${dataDir} cannot be loaded: ${(err as Error).message}: restore ${DATA_FILES.caCert} and ${DATA_FILES.caKey} from a backup (a new root would cut every sidecar off the mesh)`,
      { cause: err },
    );
  }
}

function parseMeshFile(value: unknown, file: string): MeshFile | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || typeof value['trustDomain'] !== 'string' || value['trustDomain'] === '') {
    throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `${file} has no trustDomain: restore it from a backup`);
  }
  return { trustDomain: value['trustDomain'], createdAtMs: typeof value['createdAtMs'] === 'number' ? value['createdAtMs'] : 0 };
}
