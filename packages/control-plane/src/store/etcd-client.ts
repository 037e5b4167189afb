import * as fs from 'node:fs/promises';
import { Etcd3 } from 'etcd3';
import { parseEncryptionKey } from '../ca/ca-key-sealing';
import { ControlPlaneError } from '../errors';

/** `--store etcd` and its flags, as `ControlPlaneOptions.store` carries them. */
export interface EtcdStoreOptions {
  readonly kind: 'etcd';
  /** `http://HOST:PORT` or `https://HOST:PORT`, one per member. */
  readonly endpoints: readonly string[];
  /** Every key Weft writes starts with this (default `/weft`), so several meshes can share a cluster. */
  readonly prefix: string;
  /** Client TLS towards etcd: the CA that signed etcd's certificate, and a client certificate and key. */
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  /**
   * Holds the key (AES-256-GCM, 256 bits) that seals the CA private keys stored in etcd; without
   * it, `WEFT_ETCD_ENCRYPTION_KEY`. One of the two is required.
   */
  readonly encryptionKeyFile?: string;
}

/** Where the key comes from when there is no file. */
export const ENCRYPTION_KEY_ENV = 'WEFT_ETCD_ENCRYPTION_KEY';

/** The operator's key, or a refusal to start that says how to supply one. */
export async function loadEncryptionKey(options: EtcdStoreOptions, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  if (options.encryptionKeyFile) {
    const content = await fs.readFile(options.encryptionKeyFile).catch((err: unknown) => {
      throw new ControlPlaneError('WEFT_ERR_BAD_FLAG', `--etcd-encryption-key-file ${options.encryptionKeyFile}: ${(err as Error).message}`, { cause: err });
    });
    return parseEncryptionKey(content, `--etcd-encryption-key-file ${options.encryptionKeyFile}`);
  }
  const fromEnv = env[ENCRYPTION_KEY_ENV];
  if (fromEnv) return parseEncryptionKey(Buffer.from(fromEnv, 'utf8'), ENCRYPTION_KEY_ENV);
  throw new ControlPlaneError(
    'WEFT_ERR_BAD_FLAG',
    `--store etcd keeps the CA private key in etcd, encrypted with a key you supply: pass --etcd-encryption-key-file FILE or set ${ENCRYPTION_KEY_ENV} ` +
      '(64 hex digits or base64 of 32 bytes, e.g. `openssl rand -base64 32`), the same on every replica',
  );
}

/** Where Weft's keys live in etcd unless --etcd-prefix says otherwise. */
export const DEFAULT_ETCD_PREFIX = '/weft';

/** How long one etcd call may take before the write is refused as "store unavailable". */
const CALL_TIMEOUT_MS = 5_000;

/** The key layout under the prefix, in one place. */
export function etcdKeys(prefix: string) {
  const p = prefix.replace(/\/+$/, '');
  return Object.freeze({
    resources: `${p}/resources/`,
    tokens: `${p}/tokens/`,
    caPrefix: `${p}/ca/`,
    /** Trust domain and the signing CA (its key sealed). */
    ca: `${p}/ca/authority`,
    /** The root rotation in progress (the incoming CA's key sealed). */
    rotation: `${p}/ca/rotation`,
    /** One key per replica, under its lease: the endpoints announced to it, its rotation standing. */
    replicas: `${p}/replicas/`,
    leader: `${p}/leader`,
  });
}

export type EtcdKeys = ReturnType<typeof etcdKeys>;

export async function connectEtcd(options: EtcdStoreOptions): Promise<Etcd3> {
  const read = (file: string | undefined): Promise<Buffer | undefined> => (file ? fs.readFile(file) : Promise.resolve(undefined));
  const [rootCertificate, privateKey, certChain] = await Promise.all([read(options.caFile), read(options.keyFile), read(options.certFile)]);
  const tls = options.endpoints.some((e) => e.startsWith('https://'));
  return new Etcd3({
    hosts: [...options.endpoints],
    ...(tls && rootCertificate ? { credentials: { rootCertificate, ...(privateKey ? { privateKey } : {}), ...(certChain ? { certChain } : {}) } } : {}),
    // A unary call that cannot finish is a refused write, never a request that hangs; watches
    // and lease keepalives are streams and carry no deadline.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + CALL_TIMEOUT_MS }),
    // The client's default fault handling stays: a failed call is retried on another member (three
    // times), and a member that keeps failing is skipped for a while.
  });
}

/** Refuses writes at once while etcd is known to be out of reach (`ha/etcd-health.ts`). */
export interface WriteGate {
  checkWritable(what: string): void;
}

/** What a failed etcd call becomes for the caller: a write refused with a stable code. */
export function storeUnavailable(what: string, err: unknown): ControlPlaneError {
  if (err instanceof ControlPlaneError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ControlPlaneError(
    'WEFT_ERR_STORE_UNAVAILABLE',
    `cannot ${what}: etcd is unreachable from this control plane (${detail}); this replica keeps serving what it has but refuses writes: ` +
      'retry against another replica, or restore its connection to etcd',
    { cause: err },
  );
}
