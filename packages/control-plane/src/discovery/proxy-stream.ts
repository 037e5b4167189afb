import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { DELTA_FEATURE, OBSERVE_FEATURE, type DiscoveryRequest, type DiscoveryResponse, type Logger, type ObserveReply, type ObserveRequest, type Snapshot, type WireNode } from '@weft/api';
import type { Refusals } from '../audit/refusals';
import type { PeerIdentity } from '../auth/peer-identity';
import { ControlPlaneError } from '../errors';
import { endStream } from '../grpc/status';
import type { Metrics } from '../metrics/metrics';
import { parseHostPort } from '@weft/api';
import type { Registry } from '../registry/registry';
import type { CertificateLedger } from '../revocation/certificate-ledger';
import type { Revocations } from '../revocation/revocations';
import type { ObservableProxy } from './observe-hub';
import type { ProxyRecord, ProxyTable } from './proxy-table';
import type { SnapshotBuilder, VersionedSnapshot } from './snapshot';

export interface StreamContext {
  readonly registry: Registry;
  readonly proxies: ProxyTable;
  readonly snapshots: SnapshotBuilder;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly revocations: Revocations;
  readonly ledger: CertificateLedger;
  /** Where refused streams are logged and counted. */
  readonly refusals: Refusals;
  /** ANSWER_WAIT_MS unless a test wants it short. */
  readonly answerWaitMs?: number;
}

export type DiscoveryCall = grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;

/** Nonces remembered per stream, so that an ACK for a push just superseded is still understood. */
const NONCES_KEPT = 8;
/**
 * How long a push waits for the sidecar to answer the one before it. Until then, changes collect
 * into the next push: a sidecar that is slow to apply (or a control plane far ahead of a fleet
 * that is joining) gets one delta covering them all when it answers, not a queue of them. A
 * sidecar that never answers still gets the newest version after this long.
 */
export const ANSWER_WAIT_MS = 5_000;

/** What was sent under one nonce: an ACK of it means the proxy runs this version and trusts these roots. */
interface Sent {
  readonly version: string;
  readonly trust: readonly string[];
  /** The whole snapshot of `version`, also when a delta was written. Shared and frozen (SnapshotBuilder caches it per identity): kept by reference. */
  readonly snapshot: Snapshot;
  /** Written as a delta against the version sent before it. */
  readonly delta: boolean;
  /** performance.now() when it was written: its ACK or NACK times the push. */
  readonly sentAt: number;
}

/**
 * One sidecar's discovery stream: the first request announces the node, then the sidecar ACKs
 * or NACKs each snapshot. A snapshot is written only when its version differs from the last one
 * sent, never while the previous write is still buffered (the newest is sent on drain), and not
 * while the previous push is unanswered (the newest is sent on the answer, see ANSWER_WAIT_MS).
 */
export class ProxyStream implements ObservableProxy {
  readonly #call: DiscoveryCall;
  readonly #peer: PeerIdentity;
  readonly #ctx: StreamContext;
  readonly #onDone: (stream: ProxyStream) => void;
  readonly #onObserveReply: (proxyId: string, reply: ObserveReply) => void;
  readonly #log: Logger;
  #record: Readonly<ProxyRecord> | undefined;
  /** The last version written on this stream (the table's record shows it too, while this stream owns it). */
  #sentVersion = '';
  /**
   * What the sidecar runs once it has taken everything written so far (if it ACKs it all): the base
   * of the next delta. Unset until the first write, and after a NACK of a delta, so that the next
   * write is whole.
   */
  #base: VersionedSnapshot | undefined;
  /** What it ACKed last on this stream: what it keeps running when it NACKs. */
  #acked: VersionedSnapshot | undefined;
  #lastNonce = '';
  readonly #nonces = new Map<string, Sent>();
  #blocked = false;
  /** The push the sidecar has not answered yet, and when it was written. */
  #unanswered: { readonly nonce: string; readonly at: number } | undefined;
  #answerTimer: NodeJS.Timeout | undefined;
  #pushWanted = false;
  #done = false;

  constructor(call: DiscoveryCall, peer: PeerIdentity, ctx: StreamContext, onDone: (stream: ProxyStream) => void, onObserveReply: (proxyId: string, reply: ObserveReply) => void) {
    this.#call = call;
    this.#onObserveReply = onObserveReply;
    this.#peer = peer;
    this.#ctx = ctx;
    this.#onDone = onDone;
    this.#log = ctx.log.child({ spiffeId: peer.spiffeId });
    call.on('data', (req: DiscoveryRequest) => this.#receive(req));
    call.on('end', () => {
      // The sidecar half-closed: finish our side with OK, once.
      if (this.#done) return;
      this.#finish(undefined);
      this.#call.end();
    });
    call.on('error', () => this.#finish(undefined));
    call.on('cancelled', () => this.#finish(undefined));
    call.on('drain', () => {
      this.#blocked = false;
      if (this.#pushWanted) this.push();
    });
  }

  /** The announced proxy id ('' before the first request). */
  get proxyId(): string {
    return this.#record?.node.proxyId ?? '';
  }

  get service(): string {
    return this.#peer.service;
  }

  get namespace(): string {
    return this.#peer.namespace;
  }

  /**
   * Sends a question about traffic (observe.proto). Only to a proxy whose node lists the feature:
   * an older sidecar would take a response without a snapshot for a bad config and NACK it.
   */
  observe(request: ObserveRequest): boolean {
    const record = this.#record;
    if (this.#done || !record || !(record.node.features ?? []).includes(OBSERVE_FEATURE)) return false;
    // Small and rare (only while an operator asks): written even while a snapshot waits for drain.
    this.#call.write({ version: '', nonce: '', snapshot: null, observe: request } satisfies DiscoveryResponse);
    return true;
  }

  /** Sends the current snapshot if this proxy has not been sent that version yet. */
  push(): void {
    const record = this.#record;
    if (this.#done || !record) return;
    if (this.#blocked || this.#awaitingAnswer()) {
      this.#pushWanted = true;
      return;
    }
    this.#pushWanted = false;
    const current = this.#ctx.snapshots.forProxy(record.node.service, record.node.namespace);
    const { version, snapshot, trustFingerprints } = current;
    if (version === this.#sentVersion) return;
    // A sidecar that takes deltas gets what changed since the version it will be running: an
    // endpoint change of one service is that service's entry, not the whole mesh's endpoints.
    const base = (record.node.features ?? []).includes(DELTA_FEATURE) ? this.#base : undefined;
    const wire = base ? this.#ctx.snapshots.delta(base, current) : snapshot;
    const nonce = randomBytes(12).toString('base64url');
    this.#nonces.set(nonce, { version, trust: trustFingerprints, snapshot, delta: base !== undefined, sentAt: performance.now() });
    if (this.#nonces.size > NONCES_KEPT) this.#nonces.delete(this.#nonces.keys().next().value as string);
    this.#sentVersion = version;
    this.#base = current;
    this.#lastNonce = nonce;
    this.#unanswered = { nonce, at: performance.now() };
    this.#ctx.proxies.sent(record.node.proxyId, this, version);
    this.#ctx.metrics.pushed();
    this.#blocked = !this.#call.write({ version, nonce, snapshot: wire } satisfies DiscoveryResponse);
  }

  /**
   * Whether the last push is still unanswered and young enough to wait for. When it is, a timer
   * makes sure the newest version goes out once the wait is over, answer or not.
   */
  #awaitingAnswer(): boolean {
    const unanswered = this.#unanswered;
    if (!unanswered) return false;
    const waitMs = this.#ctx.answerWaitMs ?? ANSWER_WAIT_MS;
    const left = unanswered.at + waitMs - performance.now();
    if (left <= 0) {
      this.#unanswered = undefined;
      return false;
    }
    if (!this.#answerTimer) {
      this.#answerTimer = setTimeout(() => {
        this.#answerTimer = undefined;
        if (this.#pushWanted) this.push();
      }, left);
      this.#answerTimer.unref();
    }
    return true;
  }

  /**
   * Ends the stream with `err`'s status and trailer (UNAVAILABLE on shutdown, so sidecars
   * reconnect with backoff; PERMISSION_DENIED for a removed proxy; the refusal of a bad request).
   */
  cancel(err: unknown): void {
    if (this.#done) return;
    // Finished first, with the reason (for our log): ending the call fires its 'error' listener,
    // which finishes without one.
    this.#finish(err instanceof Error ? err.message : String(err));
    endStream(this.#call, err, this.#log, 'Discovery.Stream');
  }

  #receive(req: DiscoveryRequest): void {
    if (this.#done) return;
    try {
      if (req.node) this.#announce(req.node);
      else if (!this.#record) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', 'the first discovery request must carry `node`');
      if (req.responseNonce) this.#reply(req);
      if (req.observeReply && this.#record) this.#onObserveReply(this.#record.node.proxyId, req.observeReply);
    } catch (err) {
      this.#ctx.refusals.record(this.#call, 'Discovery.Stream', err, { identity: this.#peer.spiffeId });
      this.cancel(err);
    }
  }

  #announce(raw: WireNode): void {
    const node = this.#checkNode(raw);
    const ctx = this.#ctx;
    if (ctx.revocations.isProxyRemoved(node.proxyId)) {
      throw new ControlPlaneError('WEFT_ERR_PROXY_REMOVED', `proxy ${node.proxyId} was removed from the mesh (weftctl proxy remove): start a new sidecar with a new join token to bring this workload back`);
    }
    // Links the certificate on this connection to the proxy, for sidecars that predate proxy_id in
    // SignRequest. Best effort: a failed write costs only that link, never the stream.
    ctx.ledger
      .record({ serial: this.#peer.serialNumber, proxyId: node.proxyId, spiffeId: this.#peer.spiffeId, notAfterMs: this.#peer.certificateExpiresAtMs, tokenId: '' })
      .catch((err: unknown) => this.#log.warn('cannot record the certificate of this stream', { error: err instanceof Error ? err : String(err) }));
    if (node.address) ctx.registry.announce(node, this, this.#peer.spiffeId);
    if (!this.#record) {
      this.#record = ctx.proxies.connect(node, this.#peer.spiffeId, this);
      this.#log.info('proxy connected', { proxyId: node.proxyId, address: node.address, ready: node.ready });
      this.push();
      return;
    }
    this.#ctx.proxies.announced(node, this);
  }

  #reply(req: DiscoveryRequest): void {
    const record = this.#record as Readonly<ProxyRecord>;
    const sent = this.#nonces.get(req.responseNonce);
    // A nonce we never sent (or long superseded) tells us nothing about what the sidecar runs.
    if (sent === undefined) return;
    // The sidecar answers in order, so nonces sent before this one will never be answered: drop
    // them. Each holds a snapshot; kept, they pinned up to NONCES_KEPT versions of every service's
    // snapshot in memory long after the fleet moved on.
    for (const nonce of this.#nonces.keys()) {
      if (nonce === req.responseNonce) break;
      this.#nonces.delete(nonce);
    }
    const { version } = sent;
    const seconds = (performance.now() - sent.sentAt) / 1000;
    // The newest push answered (or one after it, if an answer was too late): what waited goes out below.
    const pushHeld = this.#pushWanted;
    if (this.#unanswered?.nonce === req.responseNonce) {
      this.#unanswered = undefined;
      clearTimeout(this.#answerTimer);
      this.#answerTimer = undefined;
    }
    if (!req.error) {
      this.#acked = { version, snapshot: sent.snapshot, trustFingerprints: sent.trust };
      this.#ctx.proxies.acked(record.node.proxyId, this, { version: req.version || version, trustFingerprints: sent.trust, snapshot: sent.snapshot });
      this.#ctx.metrics.acked(seconds);
      if (pushHeld) this.push();
      return;
    }
    this.#ctx.proxies.nacked(record.node.proxyId, this, version, req.error);
    this.#ctx.metrics.nacked(seconds);
    this.#log.warn('proxy rejected a snapshot', { proxyId: record.node.proxyId, version, delta: sent.delta, error: req.error });
    // It keeps running what it ACKed. A rejected delta (its base may not be what the sidecar runs)
    // is followed by the whole snapshot, once, when nothing newer is in flight; a rejected whole
    // snapshot is not sent again (the next change sends the next version).
    this.#base = sent.delta ? undefined : this.#acked;
    if (sent.delta && req.responseNonce === this.#lastNonce) {
      this.#sentVersion = '';
      this.push();
    } else if (pushHeld) this.push();
  }

  #checkNode(raw: WireNode): WireNode {
    const peer = this.#peer;
    if (raw.service !== peer.service || raw.namespace !== peer.namespace) {
      throw new ControlPlaneError(
        'WEFT_ERR_PERMISSION_DENIED',
        `node ${raw.namespace}/${raw.service} does not match the certificate's identity ${peer.spiffeId}: a sidecar can only announce endpoints of its own service`,
      );
    }
    if (!raw.proxyId || raw.proxyId.length > 253) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', 'node.proxyId must be set (at most 253 characters)');
    if (this.#record && raw.proxyId !== this.#record.node.proxyId) {
      throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `node.proxyId cannot change on a stream (was ${this.#record.node.proxyId}, now ${raw.proxyId}): open a new stream`);
    }
    if (raw.appPort !== undefined && (!Number.isInteger(raw.appPort) || raw.appPort < 0 || raw.appPort > 65535)) {
      throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `node.appPort must be a port from 1 to 65535 (or 0: none), got ${raw.appPort}`);
    }
    if (raw.address && !parseHostPort(raw.address)) {
      throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `node.address ${JSON.stringify(raw.address)} is not HOST:PORT`);
    }
    return {
      proxyId: raw.proxyId,
      service: raw.service,
      namespace: raw.namespace,
      address: raw.address,
      labels: { ...(raw.labels ?? {}) },
      ready: raw.ready === true,
      appPort: raw.appPort ?? 0,
      proxyVersion: raw.proxyVersion ?? '',
      // The sidecar reports its newest certificate; the one on this connection may be older.
      certificateExpiresAtMs: Number(raw.certificateExpiresAtMs) || peer.certificateExpiresAtMs,
      certificateRootFingerprint: /^[0-9a-f]{64}$/.test(raw.certificateRootFingerprint ?? '') ? (raw.certificateRootFingerprint as string) : '',
      certificateSerial: /^[0-9a-f]{1,64}$/.test(raw.certificateSerial ?? '') ? (raw.certificateSerial as string) : peer.serialNumber,
      features: (raw.features ?? []).filter((f) => typeof f === 'string' && f.length <= 64).slice(0, 16),
    };
  }

  #finish(reason: string | undefined): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#answerTimer);
    const record = this.#record;
    if (record) {
      this.#ctx.registry.withdraw(record.node.proxyId, this);
      this.#ctx.proxies.disconnect(record.node.proxyId, this);
      this.#log.info('proxy disconnected', reason ? { proxyId: record.node.proxyId, reason } : { proxyId: record.node.proxyId });
    }
    this.#onDone(this);
  }
}
