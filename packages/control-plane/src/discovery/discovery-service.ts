import * as grpc from '@grpc/grpc-js';
import { CONTROL_PLANE_NAMESPACE } from '@weft/api';
import { peerIdentity, type PeerIdentity } from '../auth/peer-identity';
import { ControlPlaneError } from '../errors';
import { endStream } from '../grpc/status';
import { ObserveHub } from './observe-hub';
import { ProxyStream, type DiscoveryCall, type StreamContext } from './proxy-stream';

/**
 * Discovery.Stream: one long-lived stream per sidecar, authenticated by its workload certificate.
 * Pushes go to every open stream; each stream sends only when its proxy's version moved.
 */
export class DiscoveryService {
  readonly #ctx: StreamContext;
  readonly #streams = new Set<ProxyStream>();
  /** Questions to the connected proxies about their traffic (`weftctl stat`, `tap`, `edges`). */
  readonly observations = new ObserveHub(() => this.#streams);
  #closed = false;

  constructor(ctx: StreamContext) {
    this.#ctx = ctx;
  }

  get implementation(): grpc.UntypedServiceImplementation {
    return { Stream: (call: DiscoveryCall) => this.#open(call) };
  }

  /** Sends each connected proxy its current snapshot if it changed. */
  pushAll(): void {
    this.#ctx.snapshots.refresh();
    for (const stream of this.#streams) {
      try {
        stream.push();
      } catch (err) {
        // One proxy's failure (a snapshot that cannot be built or written) must not starve the rest.
        this.#ctx.log.error('push failed', { error: err instanceof Error ? err : String(err) });
      }
    }
  }

  /** Ends the streams of one proxy with `error`'s status (its proxy was removed). Returns how many ended. */
  disconnect(proxyId: string, error: ControlPlaneError): number {
    const ended = [...this.#streams].filter((s) => s.proxyId === proxyId);
    for (const stream of ended) stream.cancel(error);
    return ended.length;
  }

  /** Ends every stream with UNAVAILABLE (WEFT_ERR_CLOSED) so that sidecars reconnect (to this process or its successor). */
  close(): void {
    this.#closed = true;
    for (const stream of [...this.#streams]) stream.cancel(new ControlPlaneError('WEFT_ERR_CLOSED', 'the control plane is shutting down: reconnect with backoff'));
    this.#streams.clear();
  }

  #open(call: DiscoveryCall): void {
    if (this.#closed) {
      // Not a refusal of this workload (nothing for the audit trail): the process is going away.
      endStream(call, new ControlPlaneError('WEFT_ERR_CLOSED', 'the control plane is shutting down'), this.#ctx.log, 'Discovery.Stream');
      return;
    }
    const peer = peerIdentity(call);
    if (!peer) {
      this.#refuse(call, new ControlPlaneError('WEFT_ERR_UNAUTHENTICATED', 'Discovery.Stream requires a workload certificate from this mesh: get one with Identity.Sign and a join token first'));
      return;
    }
    const refusal = this.#refusal(peer);
    if (refusal) {
      this.#refuse(call, refusal, peer);
      return;
    }
    const stream = new ProxyStream(call, peer, this.#ctx, (s) => this.#streams.delete(s), (proxyId, reply) => this.observations.deliver(proxyId, reply));
    this.#streams.add(stream);
  }

  /** Ends the call with `error`, and puts it in the audit trail (log and metrics). */
  #refuse(call: DiscoveryCall, error: ControlPlaneError, peer?: PeerIdentity): void {
    this.#ctx.refusals.record(call, 'Discovery.Stream', error, { identity: peer?.spiffeId });
    endStream(call, error, this.#ctx.log, 'Discovery.Stream');
  }

  /** Why this workload may not open a stream, or undefined when it may. */
  #refusal(peer: PeerIdentity): ControlPlaneError | undefined {
    if (peer.namespace === CONTROL_PLANE_NAMESPACE) {
      return new ControlPlaneError('WEFT_ERR_PERMISSION_DENIED', `${peer.spiffeId} is not a workload identity: Discovery.Stream is for sidecars`);
    }
    if (this.#ctx.revocations.isSerialRevoked(peer.serialNumber)) {
      return new ControlPlaneError('WEFT_ERR_PROXY_REMOVED', `the certificate ${peer.serialNumber} belongs to a proxy removed from the mesh (weftctl proxy remove): start a new sidecar with a new join token`);
    }
    return undefined;
  }
}
