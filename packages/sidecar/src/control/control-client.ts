import type * as grpc from '@grpc/grpc-js';
import { applySnapshotDelta, DELTA_FEATURE, isSnapshotDelta, type DiscoveryRequest, type DiscoveryResponse, type Logger, type ObserveReply, type ObserveRequest, type Snapshot, type WireNode } from '@weft/api';
import { compileSnapshot, type CompiledConfig } from '../config/compiled-config';
import type { SelfInfo } from '../self';
import type { Watch } from '../watch';
import { formatHostPort, type HostPort } from './address';
import type { ControlPlaneAddresses } from './control-plane-addresses';
import { Backoff, RECONNECT_BACKOFF, type BackoffOptions } from './backoff';
import { errorInfo, type ErrorInfo } from './errors';
import { fromGrpcError, openDiscoveryStream, type DiscoveryCall } from './grpc-calls';
import type { IdentityMaterial } from './identity-material';
import { checkTrustBundle, sameBundle } from './trust-bundle';
import { CONTROL_CHANNEL_OPTIONS, controlPlaneCredentials } from './tls-credentials';

export type CompileFn = (snapshot: Snapshot, version: string, self: SelfInfo) => CompiledConfig;

export interface ControlClientOptions {
  /** Replicas of the control plane: the stream goes to the current one and moves on when it is lost. */
  readonly addresses: ControlPlaneAddresses;
  readonly trustDomain: string;
  readonly self: SelfInfo;
  readonly identity: Watch<IdentityMaterial>;
  readonly config: Watch<CompiledConfig>;
  /** Advertised inbound address, host:port. */
  readonly advertiseAddress: string;
  /** The app's port on the advertised host, announced so that captured connections to it map to this service. */
  readonly appPort?: number;
  readonly proxyVersion: string;
  readonly logger: Logger;
  /** Defaults to compileSnapshot; injectable so tests can make compilation fail on purpose. */
  readonly compile?: CompileFn;
  readonly backoff?: BackoffOptions;
  /** A stream that delivered config and lived this long resets the backoff. */
  readonly healthyAfterMs?: number;
  readonly channelOptions?: grpc.ChannelOptions;
  /**
   * Told the root the control plane signs under, with every accepted snapshot that names one;
   * the identity client renews early when its certificate is from another (root rotation).
   */
  readonly onSigningRoot?: (rootFingerprint: string) => void;
  /** Answers the control plane's questions about traffic (`weftctl stat`, `tap`); see telemetry/observe. */
  readonly observer?: ObserveHandler;
}

/** What the stream needs of the sidecar's observer: its Node features, answers, and to know the stream ended. */
export interface ObserveHandler {
  readonly features: readonly string[];
  handle(request: ObserveRequest, reply: (reply: ObserveReply) => void): void;
  /** The stream taps reply on is gone: end them (the control plane stopped listening). */
  endTaps(): void;
}

export interface ControlState {
  readonly connected: boolean;
  readonly connectedSinceMs?: number;
  readonly lastError?: ErrorInfo;
  readonly ackedVersion?: string;
  readonly ackedAtMs?: number;
  readonly lastNack?: { readonly version: string; readonly message: string; readonly atMs: number };
  /** Streams opened so far, the first included. */
  readonly streams: number;
  /** Snapshots accepted (ACK) and rejected (NACK) since the sidecar started. */
  readonly acks: number;
  readonly nacks: number;
}

interface OpenStream {
  readonly client: grpc.Client;
  readonly target: HostPort;
  readonly call: DiscoveryCall;
  connectedAtMs?: number;
  responded: boolean;
  done: boolean;
}

/**
 * The discovery stream: announces the node, compiles each pushed snapshot into the config watch,
 * ACKs or NACKs it, and reconnects forever with capped, jittered backoff. While disconnected the
 * sidecar keeps serving the last good config.
 */
export class ControlClient {
  readonly #o: ControlClientOptions;
  readonly #compile: CompileFn;
  readonly #backoff: Backoff;
  readonly #unsubscribe: () => void;
  #stream: OpenStream | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started = false;
  #closed = false;
  #ready = false;
  /** The certificate last reported in the node: a renewal changes it. */
  #certificate: Pick<IdentityMaterial, 'expiresAtMs' | 'serialNumber' | 'rootFingerprint'> | undefined;
  #state: Omit<ControlState, 'connected' | 'connectedSinceMs'> = { streams: 0, acks: 0, nacks: 0 };
  /** The whole snapshot of `ackedVersion`: what a delta applies to. */
  #applied: Snapshot | undefined;

  constructor(options: ControlClientOptions) {
    this.#o = options;
    this.#compile = options.compile ?? compileSnapshot;
    this.#backoff = new Backoff(options.backoff ?? RECONNECT_BACKOFF);
    this.#certificate = options.identity.current;
    // A renewed certificate changes the node's certificate facts (expiry, serial, root); tell the
    // control plane, but keep the stream: its TLS session stays valid and nothing reconnects.
    this.#unsubscribe = options.identity.subscribe((material) => {
      const before = this.#certificate;
      if (before && material.expiresAtMs === before.expiresAtMs && material.serialNumber === before.serialNumber) return;
      this.#certificate = material;
      this.#sendNode();
    });
  }

  /** The replica the stream uses now (or will use next). */
  get address(): string {
    return formatHostPort(this.#o.addresses.current);
  }

  get state(): ControlState {
    const s = this.#stream;
    const connectedSinceMs = s && !s.done ? s.connectedAtMs : undefined;
    return { ...this.#state, connected: connectedSinceMs !== undefined, ...(connectedSinceMs !== undefined ? { connectedSinceMs } : {}) };
  }

  /** Opens the stream. Needs a certificate in the identity watch. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#connect();
  }

  /** Re-announces the node with the new readiness (false while draining withdraws the endpoint). */
  setReady(ready: boolean): Promise<void> {
    this.#ready = ready;
    return this.#sendNode();
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const s = this.#stream;
    this.#stream = undefined;
    if (s) {
      s.done = true;
      this.#o.observer?.endTaps();
      s.call.cancel();
      s.client.close();
    }
  }

  #node(): WireNode {
    const { self } = this.#o;
    return {
      proxyId: self.proxyId,
      service: self.service,
      namespace: self.namespace,
      address: this.#o.advertiseAddress,
      labels: { ...self.labels },
      ready: this.#ready,
      proxyVersion: this.#o.proxyVersion,
      certificateExpiresAtMs: this.#certificate?.expiresAtMs ?? 0,
      certificateRootFingerprint: this.#certificate?.rootFingerprint ?? '',
      certificateSerial: this.#certificate?.serialNumber ?? '',
      appPort: this.#o.appPort ?? 0,
      features: [DELTA_FEATURE, ...(this.#o.observer?.features ?? [])],
    };
  }

  #connect(): void {
    this.#timer = undefined;
    const material = this.#o.identity.current;
    if (this.#closed || !material) return;
    const credentials = controlPlaneCredentials(this.#o.trustDomain, material.trustBundlePem, material);
    const target = this.#o.addresses.current;
    const { client, call } = openDiscoveryStream(formatHostPort(target), credentials, { ...CONTROL_CHANNEL_OPTIONS, ...this.#o.channelOptions });
    const stream: OpenStream = { client, call, target, responded: false, done: false };
    this.#stream = stream;
    this.#state = { ...this.#state, streams: this.#state.streams + 1 };
    call.on('metadata', () => this.#markConnected(stream));
    call.on('data', (response: DiscoveryResponse) => this.#onResponse(stream, response));
    call.on('error', (err: Error) => this.#onDone(stream, err));
    call.on('end', () => this.#onDone(stream, new Error('the control plane ended the discovery stream')));
    // The version in force tells a restarted control plane what we already run.
    this.#write(stream, { node: this.#node(), responseNonce: '', version: this.#state.ackedVersion ?? '', error: '' });
  }

  #markConnected(stream: OpenStream): void {
    if (stream.connectedAtMs !== undefined || stream.done) return;
    stream.connectedAtMs = Date.now();
    this.#o.logger.info('connected to the control plane', { address: formatHostPort(stream.target), stream: this.#state.streams });
  }

  #onResponse(stream: OpenStream, response: DiscoveryResponse): void {
    if (stream.done) return;
    this.#markConnected(stream);
    if (response.observe) {
      // A question about traffic, not config: no ACK. Answers go back on this stream only.
      this.#o.observer?.handle(response.observe, (observeReply) => void this.#write(stream, { responseNonce: '', version: '', error: '', observeReply }));
      return;
    }
    stream.responded = true;
    const { version, nonce } = response;
    let compiled: CompiledConfig;
    let bundle: string[];
    let whole: Snapshot;
    try {
      if (!response.snapshot) throw new Error('the response carries no snapshot');
      whole = this.#whole(response.snapshot);
      bundle = checkTrustBundle(whole.trustBundlePem);
      compiled = this.#compile(whole, version, this.#o.self);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const kept = this.#state.ackedVersion ?? '';
      this.#state = { ...this.#state, lastNack: { version, message, atMs: Date.now() }, nacks: this.#state.nacks + 1 };
      this.#o.logger.warn('config rejected (NACK); the previous config stays in force', { version, keptVersion: kept, error: message });
      this.#write(stream, { responseNonce: nonce, version: kept, error: message });
      return;
    }
    // The snapshot is accepted as a whole: config and trust bundle together, or neither. The
    // bundle is in force for new handshakes before the ACK leaves: a root rotation relies on it.
    this.#publish(compiled, bundle);
    this.#applied = whole;
    this.#state = { ...this.#state, ackedVersion: version, ackedAtMs: Date.now(), acks: this.#state.acks + 1 };
    this.#o.logger.debug('config applied (ACK)', { version, storeRevision: compiled.storeRevision });
    this.#write(stream, { responseNonce: nonce, version, error: '' });
    const signingRoot = response.snapshot?.signingRootFingerprint ?? '';
    if (signingRoot) this.#o.onSigningRoot?.(signingRoot);
  }

  /** The whole snapshot a response describes: itself, or a delta applied to the one in force. */
  #whole(snapshot: Snapshot): Snapshot {
    if (!isSnapshotDelta(snapshot)) return snapshot;
    const base = snapshot.baseVersion ?? '';
    const inForce = this.#state.ackedVersion ?? '';
    if (!this.#applied || base !== inForce) {
      throw new Error(`a delta against version ${base}, but ${inForce || 'no version'} is in force here: the control plane sends the whole snapshot next`);
    }
    return applySnapshotDelta(this.#applied, snapshot);
  }

  #publish(compiled: CompiledConfig, bundle: readonly string[]): void {
    try {
      this.#o.config.set(compiled);
      const current = this.#o.identity.current;
      if (current && bundle.length > 0 && !sameBundle(bundle, current.trustBundlePem)) {
        this.#o.identity.set({ ...current, trustBundlePem: bundle });
        this.#o.logger.info('trust bundle updated', { roots: bundle.length });
      }
    } catch (err) {
      // A subscriber failed after the config was swapped in: it is in force, so it is still ACKed.
      this.#o.logger.error('a config subscriber failed', { version: compiled.version, error: err instanceof Error ? err : String(err) });
    }
  }

  #onDone(stream: OpenStream, err: Error): void {
    if (stream.done) return;
    stream.done = true;
    stream.client.close();
    this.#o.observer?.endTaps();
    if (this.#stream === stream) this.#stream = undefined;
    if (this.#closed) return;
    const info = errorInfo(fromGrpcError(err, 'Discovery.Stream', formatHostPort(stream.target), 'WEFT_ERR_CONTROL_PLANE_UNAVAILABLE'));
    // A lost stream moves on to the next replica (a no-op with one): the one that was lost may be
    // gone for good, and every replica serves the same mesh.
    this.#o.addresses.failed(stream.target);
    this.#state = { ...this.#state, lastError: info };
    const healthy = stream.responded && stream.connectedAtMs !== undefined && Date.now() - stream.connectedAtMs >= (this.#o.healthyAfterMs ?? 10_000);
    if (healthy) this.#backoff.reset();
    const retryInMs = this.#backoff.next();
    this.#o.logger.warn('control plane stream lost; serving the last config and reconnecting', { error: info.message, code: info.code, retryInMs });
    this.#timer = setTimeout(() => this.#connect(), retryInMs).unref();
  }

  #sendNode(): Promise<void> {
    const s = this.#stream;
    if (!s || s.done) return Promise.resolve();
    return this.#write(s, { node: this.#node(), responseNonce: '', version: this.#state.ackedVersion ?? '', error: '' });
  }

  /** Resolves once the message is handed to the transport; a broken stream reports via 'error'. */
  #write(stream: OpenStream, request: DiscoveryRequest): Promise<void> {
    if (stream.done) return Promise.resolve();
    return new Promise((resolve) => {
      try {
        stream.call.write(request, () => resolve());
      } catch {
        resolve();
      }
    });
  }
}
