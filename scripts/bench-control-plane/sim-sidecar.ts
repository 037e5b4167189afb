/**
 * One simulated sidecar: what a real sidecar does on the wire with the control plane, and no more
 * (no listeners, no config compilation). Identity.Sign with a join token and a CSR over TLS pinned
 * to the root, then Discovery.Stream over mTLS with the real proto: the node first, an ACK for
 * every snapshot with its version and nonce, and reconnection with the sidecar's jittered backoff
 * (packages/sidecar/src/control/control-client.ts is the model).
 */
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { DELTA_FEATURE, loadWeftService, type DiscoveryRequest } from '@weft/api';
import { Backoff, CONTROL_CHANNEL_OPTIONS, controlPlaneCredentials, parseHostPort, RECONNECT_BACKOFF } from '@weft/sidecar';
import { signOverOwnConnection } from './sign-call';
import type { SimSpec } from './messages';
import { readResponseHead, revisionOf, type ResponseHead } from './wire';

/** The shared clock: epoch milliseconds, sub-millisecond precision, comparable across processes. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** As the real sidecar: a stream that delivered config and lived this long resets the backoff. */
const HEALTHY_AFTER_MS = 10_000;
const STREAM_PATH = '/weft.v1alpha1.Discovery/Stream';

interface Credential {
  readonly privateKeyPem: string;
  readonly certificateChainPem: readonly string[];
  readonly trustBundlePem: readonly string[];
  readonly expiresAtMs: number;
}

interface Stream {
  readonly client: grpc.Client;
  readonly call: grpc.ClientDuplexStream<DiscoveryRequest, ResponseHead>;
  readonly openedAt: number;
  responded: boolean;
  done: boolean;
}

export class SimSidecar {
  readonly spec: SimSpec;
  readonly #target: string;
  readonly #address: { readonly host: string; readonly port: number };
  readonly #backoff = new Backoff(RECONNECT_BACKOFF);
  readonly #onAck: () => void;
  readonly #onLost: (reason: string) => void;
  #credential: Credential | undefined;
  #stream: Stream | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #trustDomain = '';
  /** [store revision, ACK time] of every snapshot ACKed. */
  readonly acks: [number, number][] = [];
  ackedVersion = '';
  /** The largest snapshot received (a whole one), bytes. */
  snapshotBytes = 0;
  /** Every snapshot received (whole or delta), bytes. */
  bytesReceived = 0;
  /** Set to NaN by markReconnect(); the time of the first ACK after it. */
  reconnectedAt = 0;

  constructor(spec: SimSpec, target: string, onAck: () => void, onLost: (reason: string) => void) {
    this.spec = spec;
    this.#target = target;
    this.#address = parseHostPort(target);
    this.#onAck = onAck;
    this.#onLost = onLost;
  }

  get connected(): boolean {
    return this.#stream?.responded === true && !this.#stream.done;
  }

  /** Identity.Sign with the join token, on a connection of its own that trusts only the pinned root (sign-call.ts). */
  async sign(trustDomain: string, rootPem: string, privateKeyPem: string, csrPem: string): Promise<void> {
    const { host, port } = this.#address;
    const response = await signOverOwnConnection(host, port, trustDomain, rootPem, { csrPem, token: this.spec.token, proxyId: this.spec.proxyId }, 60_000);
    if (response.certificateChainPem.length === 0) throw new Error(`Identity.Sign returned no certificate for ${this.spec.proxyId}`);
    this.#credential = {
      privateKeyPem,
      certificateChainPem: response.certificateChainPem,
      trustBundlePem: response.trustBundlePem.length > 0 ? response.trustBundlePem : [rootPem],
      expiresAtMs: Number(response.expiresAtMs),
    };
    this.#trustDomain = trustDomain;
  }

  connect(): void {
    this.#timer = undefined;
    const credential = this.#credential;
    if (this.#closed || !credential) return;
    const credentials = controlPlaneCredentials(this.#trustDomain, credential.trustBundlePem, credential);
    const client = new grpc.Client(this.#target, credentials, CONTROL_CHANNEL_OPTIONS);
    const serialize = loadWeftService('Discovery').service['Stream']?.requestSerialize as (req: DiscoveryRequest) => Buffer;
    const call = client.makeBidiStreamRequest<DiscoveryRequest, ResponseHead>(STREAM_PATH, serialize, readResponseHead);
    const stream: Stream = { client, call, openedAt: nowMs(), responded: false, done: false };
    this.#stream = stream;
    call.on('data', (head: ResponseHead) => this.#onResponse(stream, head));
    call.on('error', (err: Partial<grpc.ServiceError>) => this.#onDone(stream, `${grpc.status[err.code ?? grpc.status.UNKNOWN] ?? err.code}: ${err.details ?? err.message ?? ''}`));
    call.on('end', () => this.#onDone(stream, 'the control plane ended the stream'));
    call.write({ node: this.#node(credential), responseNonce: '', version: this.ackedVersion, error: '' });
  }

  markReconnect(): void {
    this.reconnectedAt = NaN;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    const s = this.#stream;
    this.#stream = undefined;
    if (s && !s.done) {
      s.done = true;
      s.call.cancel();
      s.client.close();
    }
  }

  #node(credential: Credential): DiscoveryRequest['node'] {
    const { spec } = this;
    return {
      proxyId: spec.proxyId,
      service: spec.service,
      namespace: spec.namespace,
      address: spec.address,
      labels: { bench: 'control-plane' },
      ready: true,
      proxyVersion: 'bench-control-plane',
      certificateExpiresAtMs: credential.expiresAtMs,
      certificateRootFingerprint: '',
      certificateSerial: '',
      appPort: 0,
      // As the sidecar: deltas are taken (this one ACKs without decoding, so it never NACKs one).
      features: [DELTA_FEATURE],
    };
  }

  #onResponse(stream: Stream, head: ResponseHead): void {
    if (stream.done || head.observe) return;
    stream.responded = true;
    if (head.snapshotBytes === 0) {
      // As the sidecar: a response without a snapshot is rejected and the config in force kept.
      stream.call.write({ responseNonce: head.nonce, version: this.ackedVersion, error: 'the response carries no snapshot' });
      return;
    }
    const at = nowMs();
    this.ackedVersion = head.version;
    this.snapshotBytes = Math.max(this.snapshotBytes, head.snapshotBytes);
    this.bytesReceived += head.snapshotBytes;
    this.acks.push([revisionOf(head.version), at]);
    if (Number.isNaN(this.reconnectedAt)) this.reconnectedAt = at;
    stream.call.write({ responseNonce: head.nonce, version: head.version, error: '' });
    this.#onAck();
  }

  #onDone(stream: Stream, reason: string): void {
    if (stream.done) return;
    stream.done = true;
    this.#onLost(reason);
    stream.client.close();
    if (this.#stream === stream) this.#stream = undefined;
    if (this.#closed) return;
    if (stream.responded && nowMs() - stream.openedAt >= HEALTHY_AFTER_MS) this.#backoff.reset();
    this.#timer = setTimeout(() => this.connect(), this.#backoff.next());
  }

  /** When it first ACKed a snapshot at `revision` or later (NaN: not yet). */
  ackedRevisionAt(revision: number): number {
    return this.acks.find(([r]) => r >= revision)?.[1] ?? NaN;
  }
}
