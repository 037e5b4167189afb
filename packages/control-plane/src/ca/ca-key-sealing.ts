import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ControlPlaneError } from '../errors';

/** A private key as stored in etcd: AES-256-GCM under the operator's key, never the PEM itself. */
export interface SealedKey {
  readonly alg: 'AES-256-GCM';
  /** base64 */
  readonly iv: string;
  readonly tag: string;
  readonly ciphertext: string;
}

const KEY_BYTES = 32;
const IV_BYTES = 12;

/**
 * The operator's encryption key from a file or `WEFT_ETCD_ENCRYPTION_KEY`: 64 hex digits, base64
 * of 32 bytes (`openssl rand -base64 32`), or (files only) 32 raw bytes.
 */
export function parseEncryptionKey(content: Buffer, source: string): Buffer {
  const text = content.toString('utf8').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return Buffer.from(text, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(text)) {
    const decoded = Buffer.from(text, 'base64');
    if (decoded.length === KEY_BYTES) return decoded;
  }
  if (content.length === KEY_BYTES) return Buffer.from(content);
  throw new ControlPlaneError(
    'WEFT_ERR_BAD_FLAG',
    `${source} is not a 256-bit key: write 64 hex digits or base64 of 32 bytes, for example \`openssl rand -base64 32 > etcd-encryption.key\``,
  );
}

/** `aad` binds the ciphertext to where it is stored, so a sealed key cannot be moved to another slot. */
export function sealKey(pem: string, key: Buffer, aad: string): SealedKey {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(pem, 'utf8'), cipher.final()]);
  return { alg: 'AES-256-GCM', iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64') };
}

export function openKey(sealed: SealedKey, key: Buffer, aad: string, where: string): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new ControlPlaneError(
      'WEFT_ERR_BAD_CA',
      `the CA private key in etcd (${where}) cannot be decrypted with this encryption key: start every replica with the key the first replica used ` +
        '(--etcd-encryption-key-file or WEFT_ETCD_ENCRYPTION_KEY)',
      { cause: err },
    );
  }
}

export function isSealedKey(value: unknown): value is SealedKey {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return v['alg'] === 'AES-256-GCM' && typeof v['iv'] === 'string' && typeof v['tag'] === 'string' && typeof v['ciphertext'] === 'string';
}
