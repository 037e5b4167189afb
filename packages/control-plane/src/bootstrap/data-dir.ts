import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { ControlPlaneError } from '../errors';

/** Everything the control plane keeps, by file name inside the data directory. */
export const DATA_FILES = Object.freeze({
  meshJson: 'mesh.json',
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  /** Certificates between an operator's signing CA and its root (bring-your-own CA only). */
  caChain: 'ca-chain.pem',
  /** The root workloads trust, when an intermediate signs (bring-your-own CA only). */
  caRoot: 'ca-root.pem',
  caRotation: 'ca-rotation.json',
  /** The certificate ledger: a journal of JSON lines (format 2). */
  certificates: 'certificates.jsonl',
  /** The certificate ledger as versions before format 2 wrote it; read once and removed. */
  certificatesLegacy: 'certificates.json',
  revocations: 'revocations.json',
  servingCert: 'control-plane.pem',
  servingKey: 'control-plane-key.pem',
  operatorConfig: 'weftctl.json',
  store: 'store.json',
  tokens: 'tokens.json',
  registry: 'registry.json',
  lock: 'control-plane.lock',
});

/**
 * Creates the data directory 0700 (and tightens it if it already existed looser), because it
 * holds the CA key and every credential the control plane hands out.
 */
export async function ensureDataDir(dir: string): Promise<string> {
  const abs = path.resolve(dir);
  try {
    await fs.mkdir(abs, { recursive: true, mode: 0o700 });
    await fs.chmod(abs, 0o700);
  } catch (err) {
    throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `cannot use data directory ${abs}: ${(err as Error).message}`, { cause: err });
  }
  return abs;
}

/**
 * Writes a file so that a crash leaves either the old content or the new, never half of one:
 * temp file, fsync, rename, then fsync the directory so the rename itself is durable.
 * Every file is 0600: the directory is private, and several files hold keys or token hashes.
 */
export async function writeFileAtomic(file: string, data: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const handle = await fs.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(path.dirname(file));
}

async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename is still atomic there.
  } finally {
    await handle?.close();
  }
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Reads a JSON file, or undefined when it does not exist. A corrupt file is an error, not a reset. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ControlPlaneError(
      'WEFT_ERR_DATA_DIR',
      `${file} is not valid JSON (${(err as Error).message}): restore it from a backup or remove it to start empty`,
      { cause: err },
    );
  }
}

export async function readTextFile(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
