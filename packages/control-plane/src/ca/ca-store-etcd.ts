import { type Logger } from '@weft/api';
import { CertificateAuthority, certificateFingerprint, type CaMaterial } from '@weft/pki';
import type { Etcd3 } from 'etcd3';
import type { LoadedCa } from '../bootstrap/ca-store';
import { ControlPlaneError } from '../errors';
import { storeUnavailable, type EtcdKeys } from '../store/etcd-client';
import { loadOperatorCa, type OperatorCaFiles } from './byo-ca';
import { isSealedKey, openKey, sealKey, type SealedKey } from './ca-key-sealing';
import type { RotationPersistence } from './ca-rotation';
import { IDLE, stateFor, type RotationRecord } from './ca-rotation-file';
import { MeshAuthority, type AuthorityState } from './mesh-authority';

/** `<prefix>/ca/authority`: the mesh's trust domain and signing CA, its key sealed. */
interface StoredAuthority {
  readonly formatVersion: 1;
  readonly trustDomain: string;
  readonly createdAtMs: number;
  readonly certificatePem: string;
  readonly sealedPrivateKey: SealedKey;
  readonly intermediatesPem?: readonly string[];
  readonly rootPem?: string;
}

/**
 * Loads the mesh CA from etcd, or creates it when this is the first replica of a new mesh. The
 * creation is a transaction that writes only if the key does not exist yet, so replicas starting
 * together agree on one root: the losers load the winner's. The private key is sealed with the
 * operator's key before it leaves this process (`ca-key-sealing.ts`).
 */
export async function loadOrCreateCaEtcd(
  client: Etcd3,
  keys: EtcdKeys,
  options: { readonly trustDomain: string; readonly encryptionKey: Buffer; readonly log: Logger; readonly operatorCa?: OperatorCaFiles },
): Promise<LoadedCa> {
  const { log, encryptionKey } = options;
  let created = false;
  let raw = await read(client, keys.ca);
  if (raw === undefined) {
    const material = options.operatorCa ? await loadOperatorCa(options.operatorCa) : CertificateAuthority.createRoot(options.trustDomain).exportMaterial();
    const stored = toStored(material, options.trustDomain, encryptionKey, keys.ca);
    const res = await client
      .if(keys.ca, 'Create', '==', 0)
      .then(client.put(keys.ca).value(JSON.stringify(stored)))
      .commit()
      .catch((err: unknown) => {
        throw storeUnavailable('create the mesh CA in etcd', err);
      });
    created = res.succeeded;
    // Lost the race: another replica created the mesh a moment ago; use its CA.
    raw = created ? JSON.stringify(stored) : await read(client, keys.ca);
  }
  const { authority, ca, rotation } = await parseCa(client, keys, encryptionKey, raw);
  if (created) {
    log.info(options.operatorCa ? "using the operator's CA" : 'created root CA', { store: 'etcd', trustDomain: authority.trustDomain, rootFingerprint: certificateFingerprint(ca.rootPem) });
  } else {
    if (authority.trustDomain !== options.trustDomain) log.warn('keeping the stored trust domain', { trustDomain: authority.trustDomain, requested: options.trustDomain });
    log.info('loaded the mesh CA from etcd', { rootFingerprint: certificateFingerprint(ca.rootPem), rotation: rotation.phase });
  }
  // From reissue on, the rotation record's CA signs (it replaced the authority's when reissue began).
  return { mesh: new MeshAuthority(authority.trustDomain, stateFor(rotation, ca), created), rotation };
}

/** The CA and rotation as etcd holds them now, and the trust they make (`stateFor`). */
export async function readCaState(client: Etcd3, keys: EtcdKeys, encryptionKey: Buffer): Promise<{ rotation: RotationRecord; state: AuthorityState }> {
  const { ca, rotation } = await parseCa(client, keys, encryptionKey, await read(client, keys.ca));
  return { rotation, state: stateFor(rotation, ca) };
}

async function parseCa(client: Etcd3, keys: EtcdKeys, encryptionKey: Buffer, raw: string | undefined): Promise<{ authority: StoredAuthority; ca: CertificateAuthority; rotation: RotationRecord }> {
  const authority = parseStored(raw, keys.ca);
  const ca = CertificateAuthority.fromPem(fromStored(authority, encryptionKey, keys.ca));
  const rotation = parseRotation(await read(client, keys.rotation), encryptionKey, keys.rotation);
  return { authority, ca, rotation };
}

/**
 * Root rotation phases in etcd. Starting one (from idle) is a compare-and-set on the rotation key,
 * so two replicas asked at once start one rotation; every later phase is written only by the
 * leader, guarded by its leader key, and from reissue on replaces the stored signer in the same
 * transaction (so the stored CA and the phase never disagree).
 */
export function etcdRotationPersistence(
  client: Etcd3,
  keys: EtcdKeys,
  encryptionKey: Buffer,
  leader: { guard(): { readonly key: string; readonly createRevision: string } | undefined },
): RotationPersistence {
  return async (record, { from }) => {
    const value = storedRotation(record, encryptionKey, keys.rotation);
    try {
      if (from.phase === 'idle') {
        const res = await client.get(keys.rotation).exec();
        const current = res.kvs[0];
        if (current && parseRotation(current.value.toString('utf8'), encryptionKey, keys.rotation).phase !== 'idle') throw inProgress();
        const txn = await client.if(keys.rotation, 'Mod', '==', current?.mod_revision ?? 0).then(client.put(keys.rotation).value(value)).commit();
        if (!txn.succeeded) throw inProgress();
        return;
      }
      const guard = leader.guard();
      if (!guard) throw notLeader();
      const ops = [client.put(keys.rotation).value(value)];
      if (record.phase === 'reissue' && record.next) {
        const authority = parseStored(await read(client, keys.ca), keys.ca);
        ops.push(client.put(keys.ca).value(JSON.stringify({ ...toStored(record.next, authority.trustDomain, encryptionKey, keys.ca), createdAtMs: authority.createdAtMs })));
      }
      const txn = await client.if(guard.key, 'Create', '==', guard.createRevision).then(...ops).commit();
      if (!txn.succeeded) throw notLeader();
    } catch (err) {
      throw storeUnavailable('record the root rotation phase', err);
    }
  };
}

function inProgress(): ControlPlaneError {
  return new ControlPlaneError('WEFT_ERR_ROTATION_IN_PROGRESS', 'a root rotation is already in progress (started through another replica): follow it with `weftctl ca status`');
}

function notLeader(): ControlPlaneError {
  return new ControlPlaneError('WEFT_ERR_NOT_LEADER', 'this replica is not the leader any more: the elected leader carries the root rotation on');
}

function toStored(material: CaMaterial, trustDomain: string, key: Buffer, where: string): StoredAuthority {
  return {
    formatVersion: 1,
    trustDomain,
    createdAtMs: Date.now(),
    certificatePem: material.certificatePem,
    sealedPrivateKey: sealKey(material.privateKeyPem, key, where),
    ...(material.intermediatesPem ? { intermediatesPem: material.intermediatesPem } : {}),
    ...(material.rootPem ? { rootPem: material.rootPem } : {}),
  };
}

function fromStored(stored: StoredAuthority, key: Buffer, where: string): CaMaterial {
  return {
    certificatePem: stored.certificatePem,
    privateKeyPem: openKey(stored.sealedPrivateKey, key, where, where),
    ...(stored.intermediatesPem ? { intermediatesPem: stored.intermediatesPem } : {}),
    ...(stored.rootPem ? { rootPem: stored.rootPem } : {}),
  };
}

function parseStored(raw: string | undefined, where: string): StoredAuthority {
  const value = raw === undefined ? undefined : safeJson(raw);
  if (!value || typeof value['trustDomain'] !== 'string' || typeof value['certificatePem'] !== 'string' || !isSealedKey(value['sealedPrivateKey'])) {
    throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `etcd key ${where} is not a Weft mesh CA: restore it from an etcd snapshot (a new root would cut every sidecar off the mesh)`);
  }
  return value as unknown as StoredAuthority;
}

/** The rotation record as etcd holds it: the incoming CA's key sealed. Absent means idle. */
function parseRotation(raw: string | undefined, key: Buffer, where: string): RotationRecord {
  if (raw === undefined) return IDLE;
  const value = safeJson(raw);
  const next = value?.['next'] as Record<string, unknown> | undefined;
  if (!value || typeof value['phase'] !== 'string') throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `etcd key ${where} is not a root rotation record: restore it from an etcd snapshot`);
  const record = value as unknown as RotationRecord & { next?: { certificatePem: string; sealedPrivateKey: SealedKey } };
  if (!next || typeof next['certificatePem'] !== 'string' || !isSealedKey(next['sealedPrivateKey'])) return { ...record, next: undefined } as RotationRecord;
  return { ...record, next: { certificatePem: next['certificatePem'], privateKeyPem: openKey(next['sealedPrivateKey'], key, where, where) } };
}

/** The rotation record in the form etcd keeps (`parseRotation` reads it back). */
export function storedRotation(record: RotationRecord, key: Buffer, where: string): string {
  const { next, ...rest } = record;
  return JSON.stringify({ formatVersion: 1, ...rest, ...(next ? { next: { certificatePem: next.certificatePem, sealedPrivateKey: sealKey(next.privateKeyPem, key, where) } } : {}) });
}

async function read(client: Etcd3, key: string): Promise<string | undefined> {
  const value = await client.get(key).string().catch((err: unknown) => {
    throw storeUnavailable(`read ${key} from etcd`, err);
  });
  return value ?? undefined;
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
