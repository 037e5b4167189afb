import * as path from 'node:path';
import type { Logger } from '@weft/api';
import { loadOrCreateCa, type LoadedCa } from '../bootstrap/ca-store';
import { DATA_FILES } from '../bootstrap/data-dir';
import type { OperatorCaFiles } from '../ca/byo-ca';
import { fileRotationPersistence, type RotationPersistence } from '../ca/ca-rotation';
import { loadOrCreateCaEtcd, storedRotation } from '../ca/ca-store-etcd';
import { ControlPlaneError } from '../errors';
import { EndpointShare } from '../ha/endpoint-share';
import { EtcdTokenStore } from '../tokens/token-store-etcd';
import { TokenStore } from '../tokens/token-store';
import type { JoinTokens } from '../tokens/tokens';
import { connectEtcd, etcdKeys, loadEncryptionKey, storeUnavailable, type EtcdStoreOptions } from './etcd-client';
import type { Store } from './store';
import { EtcdStore } from './store-etcd';
import { FileStore } from './store-file';

/** What one control plane shares with its replicas (etcd) or keeps alone (the data directory). */
export interface SharedState extends LoadedCa {
  readonly kind: 'file' | 'etcd';
  readonly store: Store;
  readonly tokens: JoinTokens;
  readonly persistRotation: RotationPersistence;
  readonly refuseRotation?: () => ControlPlaneError | undefined;
  /** With etcd: endpoints shared between replicas (`ha/endpoint-share.ts`). */
  readonly endpoints?: EndpointShare;
  /** Closes the store, the tokens and the etcd connection. */
  close(): Promise<void>;
}

export interface SharedStateOptions {
  readonly dataDir: string;
  readonly trustDomain: string;
  readonly log: Logger;
  readonly operatorCa?: OperatorCaFiles;
  readonly etcd?: EtcdStoreOptions;
}

/**
 * Opens the CA, the policy store and the join tokens where `--store` says. A failure part-way
 * closes what was opened.
 */
export async function openSharedState(o: SharedStateOptions): Promise<SharedState> {
  return o.etcd ? openEtcd(o, o.etcd) : openFiles(o);
}

async function openFiles(o: SharedStateOptions): Promise<SharedState> {
  const { mesh, rotation } = await loadOrCreateCa(o.dataDir, o.trustDomain, o.log, o.operatorCa);
  const store = await FileStore.open(path.join(o.dataDir, DATA_FILES.store), { log: o.log.child({ component: 'store' }) });
  const tokens = await TokenStore.open(path.join(o.dataDir, DATA_FILES.tokens), { trustDomain: mesh.trustDomain, rootFingerprint: () => mesh.rootFingerprint }).catch(async (err: unknown) => {
    await store.close();
    throw err;
  });
  return {
    kind: 'file',
    mesh,
    rotation,
    store,
    tokens,
    persistRotation: fileRotationPersistence(o.dataDir),
    close: async () => {
      await Promise.all([store.close(), tokens.close()]);
    },
  };
}

async function openEtcd(o: SharedStateOptions, etcd: EtcdStoreOptions): Promise<SharedState> {
  // Checked before connecting: without the key the CA can be neither created nor loaded.
  const encryptionKey = await loadEncryptionKey(etcd);
  const keys = etcdKeys(etcd.prefix);
  const client = await connectEtcd(etcd);
  try {
    const { mesh, rotation } = await loadOrCreateCaEtcd(client, keys, { trustDomain: o.trustDomain, encryptionKey, log: o.log, ...(o.operatorCa ? { operatorCa: o.operatorCa } : {}) });
    const store = await EtcdStore.open(client, keys.resources, { log: o.log.child({ component: 'store' }) });
    const tokens = new EtcdTokenStore(client, keys.tokens, { trustDomain: mesh.trustDomain, rootFingerprint: () => mesh.rootFingerprint });
    const endpoints = await EndpointShare.open(client, keys.endpoints, o.log.child({ component: 'endpoint-share' }));
    o.log.info('store: etcd', { endpoints: etcd.endpoints, prefix: etcd.prefix });
    return {
      kind: 'etcd',
      mesh,
      rotation,
      store,
      tokens,
      endpoints,
      persistRotation: async (record) => {
        await client.put(keys.rotation).value(storedRotation(record, encryptionKey, keys.rotation)).catch((err: unknown) => {
          throw storeUnavailable('record the root rotation phase', err);
        });
      },
      // Phases advance on the proxies connected to one replica; with several replicas that needs
      // the leader election this build does not have yet (docs/ha.md).
      refuseRotation: () =>
        new ControlPlaneError(
          'WEFT_ERR_UNSUPPORTED',
          'root rotation is not available with --store etcd in this build (it must run once, under an elected leader, across replicas): ' +
            'rotate on a single control plane with the file store, or wait for a build with leader election',
        ),
      close: async () => {
        await Promise.all([store.close(), tokens.close(), endpoints.close()]);
        client.close();
      },
    };
  } catch (err) {
    client.close();
    throw err;
  }
}
