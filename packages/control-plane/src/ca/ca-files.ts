import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { splitPemChain, type CaMaterial } from '@weft/pki';
import { DATA_FILES, readTextFile, writeFileAtomic } from '../bootstrap/data-dir';

/**
 * The signing CA on disk: `ca.pem` and `ca-key.pem`, plus `ca-chain.pem` and `ca-root.pem` when
 * an operator's intermediate signs. Absent files mean "the signer is the root".
 */
export async function readCaFiles(dataDir: string): Promise<{ material?: CaMaterial; missing: string[] }> {
  const [certificatePem, privateKeyPem, chainPem, rootPem] = await Promise.all(
    [DATA_FILES.caCert, DATA_FILES.caKey, DATA_FILES.caChain, DATA_FILES.caRoot].map((f) => readTextFile(path.join(dataDir, f))),
  );
  const missing = [certificatePem === undefined ? DATA_FILES.caCert : '', privateKeyPem === undefined ? DATA_FILES.caKey : ''].filter(Boolean);
  if (certificatePem === undefined || privateKeyPem === undefined) return { missing };
  return {
    missing,
    material: {
      certificatePem,
      privateKeyPem,
      ...(chainPem ? { intermediatesPem: splitPemChain(chainPem) } : {}),
      ...(rootPem ? { rootPem } : {}),
    },
  };
}

/**
 * Writes the signing CA; chain and root files are removed when the signer is itself the root.
 * Several files cannot change at once, so the caller makes a crash harmless: at first start
 * `mesh.json` is written after these (without it they are replaced), and during a rotation
 * `ca-rotation.json` holds the new CA, from which these are rewritten on the next start.
 */
export async function writeCaFiles(dataDir: string, material: CaMaterial): Promise<void> {
  await writeFileAtomic(path.join(dataDir, DATA_FILES.caKey), material.privateKeyPem);
  await writeFileAtomic(path.join(dataDir, DATA_FILES.caCert), material.certificatePem);
  const intermediate = material.rootPem !== undefined && material.rootPem !== material.certificatePem;
  const chain = intermediate ? (material.intermediatesPem ?? []).join('') : '';
  await writeOrRemove(path.join(dataDir, DATA_FILES.caChain), chain);
  await writeOrRemove(path.join(dataDir, DATA_FILES.caRoot), intermediate ? (material.rootPem as string) : '');
}

async function writeOrRemove(file: string, content: string): Promise<void> {
  if (content) await writeFileAtomic(file, content);
  else await fs.rm(file, { force: true });
}
