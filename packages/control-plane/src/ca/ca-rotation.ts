import type { Logger } from '@weft/api';
import { CertificateAuthority, certificateFingerprint } from '@weft/pki';
import { ControlPlaneError } from '../errors';
import { writeCaFiles } from './ca-files';
import { stateFor, writeRotation, type RotationPhase, type RotationRecord } from './ca-rotation-file';
import type { AuthorityState, MeshAuthority } from './mesh-authority';
import type { RotationProgress, RotationTarget } from './rotation-progress';

/**
 * Where phases are kept: `ca-rotation.json` and ca.pem in the data directory, or etcd. Called
 * before a phase acts; from reissue on it must also make the record's CA the stored signer.
 */
export type RotationPersistence = (record: RotationRecord, step: { readonly from: RotationRecord }) => Promise<void>;

/** The data directory's persistence: the record first, then ca.pem once reissue begins. */
export function fileRotationPersistence(dataDir: string): RotationPersistence {
  return async (record) => {
    await writeRotation(dataDir, record);
    if (record.phase === 'reissue' && record.next) await writeCaFiles(dataDir, record.next);
  };
}

export interface CaRotationOptions {
  readonly persist: RotationPersistence;
  /**
   * Whether this control plane may advance phases now: always alone; only as the elected leader
   * among replicas (every replica still follows the phases the leader writes, `follow`).
   */
  readonly mayAdvance?: () => boolean;
  /** With replicas: what the other replicas' proxies still lack for a phase ('' when ready). */
  readonly peersWaitingFor?: (record: RotationRecord) => string;
  /** With replicas: tells the others where this replica's own proxies stand, on every tick. */
  readonly reportStanding?: (record: RotationRecord, waitingFor: string) => void;
  readonly mesh: MeshAuthority;
  /** Where the last start left off (`loadOrCreateCa`). */
  readonly record: RotationRecord;
  readonly log: Logger;
  /** Where the proxies stand against a phase's goal. */
  readonly progress: (target: RotationTarget) => RotationProgress;
  /**
   * Makes a new state visible: serving certificate, the gRPC server's trusted roots, weftctl.json,
   * snapshots. Awaited before the next phase is considered; retried each tick while it fails.
   */
  readonly publish: () => Promise<void>;
  /** No phase advances before this: a restarted control plane first lets its sidecars reconnect. */
  readonly holdUntilMs: number;
  readonly tickMs?: number;
  readonly now?: () => number;
}

const DEFAULT_ROOT_VALIDITY_DAYS = 3650;
const TICK_MS = 250;
const NEXT: Readonly<Record<RotationPhase, RotationPhase | 'idle'>> = { overlap: 'reissue', reissue: 'retire', retire: 'idle' };

/**
 * `weftctl ca rotate-root` as a state machine persisted in `ca-rotation.json`:
 * idle -> overlap (new root trusted, old one signs) -> reissue (new root signs; sidecars renew at
 * once) -> retire (old root dropped) -> idle. A phase advances on its own once every proxy meets
 * its goal (`rotationProgress`), so that no handshake ever meets a certificate its peer cannot
 * verify. Transitions run one at a time; a restart resumes the phase it was in.
 */
export class CaRotation {
  readonly #o: CaRotationOptions;
  readonly #now: () => number;
  #record: RotationRecord;
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #published = true;
  #closed = false;
  /** A tick is queued or running: the next one is skipped rather than piled up behind it. */
  #ticking = false;

  constructor(options: CaRotationOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#record = options.record;
  }

  /** Starts advancing a rotation left in progress by the last run (call once everything serves). */
  resume(): void {
    if (this.#record.phase !== 'idle') this.#startTicking();
  }

  get record(): RotationRecord {
    return this.#record;
  }

  /** What the current phase asks of the proxies; undefined when idle. */
  target(): RotationTarget | undefined {
    const { phase, next } = this.#record;
    if (phase === 'idle' || !next) return undefined;
    return { phase, newRootFingerprint: certificateFingerprint(next.certificatePem), bundleFingerprints: this.#o.mesh.trustBundleFingerprints };
  }

  /** Every proxy's standing, and why the phase has not advanced (empty when idle or ready). */
  progress(): RotationProgress {
    const target = this.target();
    if (!target) return { proxies: [], waitingFor: '' };
    const own = this.#o.progress(target);
    const peers = own.waitingFor ? '' : (this.#o.peersWaitingFor?.(this.#record) ?? '');
    const progress = peers ? { ...own, waitingFor: `other control plane replicas: ${peers}` } : own;
    const now = this.#now();
    if (now >= this.#o.holdUntilMs) return progress;
    const hold = `sidecars to reconnect to the restarted control plane, until ${new Date(this.#o.holdUntilMs).toISOString()} (--endpoint-grace)`;
    return { ...progress, waitingFor: progress.waitingFor ? `${hold}; ${progress.waitingFor}` : hold };
  }

  /** Begins a rotation with a new root valid for `validityMs` (default 10 years). */
  start(validityMs = 0): Promise<RotationRecord> {
    return this.#serial(async () => {
      const current = this.#record;
      if (current.phase !== 'idle') {
        throw new ControlPlaneError(
          'WEFT_ERR_ROTATION_IN_PROGRESS',
          `a root rotation is already in progress (phase ${current.phase} since ${new Date(current.phaseSinceMs).toISOString()}): follow it with \`weftctl ca status\``,
        );
      }
      const now = this.#now();
      const days = validityMs > 0 ? Math.max(1, Math.ceil(validityMs / 86_400_000)) : DEFAULT_ROOT_VALIDITY_DAYS;
      const { trustDomain } = this.#o.mesh;
      const next = CertificateAuthority.createRoot(trustDomain, days, `Weft root CA for ${trustDomain} (${new Date(now).toISOString()})`).exportMaterial();
      await this.#enter({ phase: 'overlap', startedAtMs: now, phaseSinceMs: now, oldRootPem: this.#o.mesh.ca.rootPem, next, lastCompletedAtMs: current.lastCompletedAtMs });
      this.#startTicking();
      return this.#record;
    });
  }

  /** Stops advancing (the state stays on disk); waits for a transition under way. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#queue.catch(() => undefined);
  }

  #startTicking(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.#ticking) return;
      this.#ticking = true;
      this.#serial(() => this.#advance())
        .catch((err: unknown) => this.#failed(err))
        .finally(() => (this.#ticking = false));
    }, this.#o.tickMs ?? TICK_MS);
    this.#timer.unref();
  }

  async #advance(): Promise<void> {
    if (this.#closed) return;
    if (!this.#published) await this.#publish();
    const { phase } = this.#record;
    if (phase === 'idle') {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const target = this.target();
    if (target) this.#o.reportStanding?.(this.#record, this.#o.progress(target).waitingFor);
    if (this.#o.mayAdvance && !this.#o.mayAdvance()) return;
    if (this.progress().waitingFor) return;
    const now = this.#now();
    const to = NEXT[phase];
    const record: RotationRecord =
      to === 'idle'
        ? { phase: 'idle', startedAtMs: 0, phaseSinceMs: now, oldRootPem: '', lastCompletedAtMs: now }
        : { ...this.#record, phase: to, phaseSinceMs: now };
    await this.#enter(record);
  }

  /**
   * Persists a phase, then acts on it: the record first, so that a crash in between resumes into
   * this phase (and `loadOrCreateCa` rewrites ca.pem from the record once reissue has begun).
   */
  async #enter(record: RotationRecord): Promise<void> {
    const { mesh, log } = this.#o;
    const from = this.#record.phase;
    await this.#o.persist(record, { from: this.#record });
    this.#record = record;
    if (record.phase !== 'idle') mesh.update(stateFor(record, mesh.ca));
    log.info(record.phase === 'idle' ? 'root rotation complete' : 'root rotation phase', {
      from,
      phase: record.phase,
      signingRootFingerprint: mesh.rootFingerprint,
      trustBundle: mesh.trustBundleFingerprints,
    });
    this.#published = false;
    // A failure here does not undo the phase (it is on disk and in force); each tick retries.
    await this.#publish().catch((err: unknown) => this.#failed(err));
  }

  /**
   * Takes a phase another replica wrote (the leader, or the replica that started the rotation),
   * with `state` computed from the stored CA: trust and signer follow at once, and this replica
   * ticks too, so that it can carry on should it become the leader.
   */
  follow(record: RotationRecord, state: AuthorityState): Promise<void> {
    return this.#serial(async () => {
      const r = this.#record;
      if (record.phase === r.phase && record.phaseSinceMs === r.phaseSinceMs && record.startedAtMs === r.startedAtMs) return;
      this.#record = record;
      this.#o.mesh.update(state);
      this.#o.log.info('root rotation phase (from another replica)', { phase: record.phase, signingRootFingerprint: this.#o.mesh.rootFingerprint });
      this.#published = false;
      await this.#publish().catch((err: unknown) => this.#failed(err));
      if (record.phase !== 'idle') this.#startTicking();
    });
  }

  async #publish(): Promise<void> {
    await this.#o.publish();
    this.#published = true;
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(step);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #failed(err: unknown): void {
    this.#o.log.error('root rotation step failed; retrying', { phase: this.#record.phase, error: err instanceof Error ? err : String(err) });
  }
}
