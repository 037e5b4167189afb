import * as path from 'node:path';
import type { Logger } from '@weft/api';
import { loadOrCreateCa, type LoadedCa } from '../bootstrap/ca-store';
import { DATA_FILES } from '../bootstrap/data-dir';
import type { OperatorCaFiles } from '../ca/byo-ca';
import { fileRotationPersistence, type CaRotation, type RotationPersistence } from '../ca/ca-rotation';
import { etcdRotationPersistence, loadOrCreateCaEtcd } from '../ca/ca-store-etcd';
import { ReplicaShare } from '../ha/replica-share';
import { EtcdHealth } from '../ha/etcd-health';
import { LeaderElection } from '../ha/leader';
import { followRotation } from '../ha/rotation-follow';
import { EtcdTokenStore } from '../tokens/token-store-etcd';
import { TokenStore } from '../tokens/token-store';
import type { JoinTokens } from '../tokens/tokens';
import { connectEtcd, etcdKeys, loadEncryptionKey, type EtcdStoreOptions } from './etcd-client';
import type { Store } from './store';
import { EtcdStore } from './store-etcd';
import { FileStore } from './store-file';

/** What one control plane shares with its replicas (etcd) or keeps alone (the data directory). */
export interface SharedState extends LoadedCa {
  readonly kind: 'file' | 'etcd';
  readonly store: Store;
  readonly tokens: JoinTokens;
  readonly persistRotation: RotationPersistence;
  /** With etcd: only the elected leader advances a rotation. */
  readonly mayAdvanceRotation?: () => boolean;
  /** With etcd: follow the phases other replicas write (call once the rotation exists). */
  followRotation?(rotation: CaRotation): Promise<void>;
  /** With etcd: endpoints and rotation standing shared between replicas (`ha/replica-share.ts`). */
  readonly replicas?: ReplicaShare;
  /** With etcd: whether this replica reaches it (`/ready` detail, metrics, refused writes). */
  readonly health?: EtcdHealth;
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
  let health: EtcdHealth | undefined;
  try {
    const { mesh, rotation } = await loadOrCreateCaEtcd(client, keys, { trustDomain: o.trustDomain, encryptionKey, log: o.log, ...(o.operatorCa ? { operatorCa: o.operatorCa } : {}) });
    const gate = new EtcdHealth(client, keys.leader, o.log.child({ component: 'store' }));
    health = gate;
    gate.start();
    const store = await EtcdStore.open(client, keys.resources, { log: o.log.child({ component: 'store' }), health: gate });
    const tokens = new EtcdTokenStore(client, keys.tokens, { trustDomain: mesh.trustDomain, rootFingerprint: () => mesh.rootFingerprint, health: gate });
    const replicas = await ReplicaShare.open(client, keys.replicas, o.log.child({ component: 'replica-share' }));
    const leader = new LeaderElection(client, keys.leader, replicas.replicaId, o.log.child({ component: 'leader' }));
    leader.start();
    let stopFollowing: (() => Promise<void>) | undefined;
    o.log.info('store: etcd', { endpoints: etcd.endpoints, prefix: etcd.prefix });
    return {
      kind: 'etcd',
      mesh,
      rotation,
      store,
      tokens,
      replicas,
      health: gate,
      persistRotation: etcdRotationPersistence(client, keys, encryptionKey, leader),
      mayAdvanceRotation: () => leader.isLeader,
      followRotation: async (rotation) => {
        stopFollowing = await followRotation(client, keys, encryptionKey, rotation, o.log.child({ component: 'ca-rotation' }));
      },
      close: async () => {
        health?.close();
        await stopFollowing?.();
        await leader.close();
        await Promise.all([store.close(), tokens.close(), replicas.close()]);
        client.close();
      },
    };
  } catch (err) {
    health?.close();
    client.close();
    throw err;
  }
}
