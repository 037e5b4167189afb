import * as path from 'node:path';
import { CertificateAuthority, type CaMaterial } from '@weft/pki';
import { DATA_FILES, isRecord, readJsonFile, writeJsonAtomic } from '../bootstrap/data-dir';
import { ControlPlaneError } from '../errors';
import type { AuthorityState } from './mesh-authority';

/**
 * A root rotation's phases, in order:
 * - overlap: the new root joins the trust bundle; the old one still signs.
 * - reissue: the new root signs; sidecars renew at once; both roots are trusted.
 * - retire:  the old root leaves the trust bundle.
 * Then idle again.
 */
export type RotationPhase = 'overlap' | 'reissue' | 'retire';

/** `ca-rotation.json`: the rotation in progress (or the last one finished). 0600, like every file here. */
export interface RotationRecord {
  readonly phase: RotationPhase | 'idle';
  readonly startedAtMs: number;
  readonly phaseSinceMs: number;
  /** The root being rotated out; '' when idle. */
  readonly oldRootPem: string;
  /** The incoming CA, key included, until the rotation is done (then ca.pem holds it). */
  readonly next?: CaMaterial;
  readonly lastCompletedAtMs: number;
}

export const IDLE: RotationRecord = Object.freeze({ phase: 'idle', startedAtMs: 0, phaseSinceMs: 0, oldRootPem: '', lastCompletedAtMs: 0 });

const PHASES: readonly string[] = ['idle', 'overlap', 'reissue', 'retire'];

export function rotationFile(dataDir: string): string {
  return path.join(dataDir, DATA_FILES.caRotation);
}

export async function readRotation(dataDir: string): Promise<RotationRecord> {
  const file = rotationFile(dataDir);
  const raw = await readJsonFile(file);
  if (raw === undefined) return IDLE;
  const next = isRecord(raw) && isRecord(raw['next']) ? raw['next'] : undefined;
  const valid =
    isRecord(raw) &&
    typeof raw['phase'] === 'string' &&
    PHASES.includes(raw['phase']) &&
    (raw['phase'] === 'idle' || (typeof raw['oldRootPem'] === 'string' && typeof next?.['certificatePem'] === 'string' && typeof next['privateKeyPem'] === 'string'));
  if (!valid) throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `${file} is not a root rotation record: restore it from a backup`);
  const num = (key: string): number => (typeof raw[key] === 'number' ? raw[key] : 0);
  return {
    phase: raw['phase'] as RotationRecord['phase'],
    startedAtMs: num('startedAtMs'),
    phaseSinceMs: num('phaseSinceMs'),
    oldRootPem: typeof raw['oldRootPem'] === 'string' ? raw['oldRootPem'] : '',
    ...(next ? { next: { certificatePem: next['certificatePem'] as string, privateKeyPem: next['privateKeyPem'] as string } } : {}),
    lastCompletedAtMs: num('lastCompletedAtMs'),
  };
}

export function writeRotation(dataDir: string, record: RotationRecord): Promise<void> {
  return writeJsonAtomic(rotationFile(dataDir), { formatVersion: 1, ...record });
}

/**
 * Who signs and which roots are trusted in each phase. `current` is the CA in ca.pem, which is
 * the old one in overlap and the new one from reissue on (it is rewritten when reissue begins).
 */
export function stateFor(record: RotationRecord, current: CertificateAuthority): AuthorityState {
  if (record.phase === 'idle' || !record.next) return { ca: current, trustBundlePem: [current.rootPem] };
  const next = CertificateAuthority.fromPem(record.next);
  switch (record.phase) {
    case 'overlap':
      return { ca: current, trustBundlePem: [current.rootPem, next.rootPem] };
    case 'reissue':
      return { ca: next, trustBundlePem: [record.oldRootPem, next.rootPem] };
    case 'retire':
      return { ca: next, trustBundlePem: [next.rootPem] };
  }
}

/** The CA that must be in ca.pem for this record: the new one once reissue has begun. */
export function signerFileFor(record: RotationRecord): CaMaterial | undefined {
  return record.phase === 'reissue' || record.phase === 'retire' ? record.next : undefined;
}
