/**
 * TEST DOUBLE at a package boundary. A minimal control plane for the sidecar's control-side tests:
 * a REAL grpc-js server over REAL TLS with a REAL CA from @weft/pki, implementing Identity.Sign
 * and Discovery.Stream just far enough to exercise the sidecar. It is not the control plane (that
 * is packages/control-plane, exercised by the top-level cross-process tests); it exists so these
 * tests do not depend on it, and it keeps records (signings, nodes, ACKs, NACKs) to assert on.
 */
import * as grpc from '@grpc/grpc-js';
import { CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE, loadWeftServices, parseSpiffeId, spiffeId } from '@weft/api';
import type { DiscoveryRequest, DiscoveryResponse, SignRequest, SignResponse, Snapshot, WireNode } from '@weft/api';
import { CertificateAuthority, certificateFingerprint, generateKeyPair, parseCsr, sanValues } from '@weft/pki';
import { randomBytes } from 'node:crypto';

type CertificateProvider = grpc.experimental.CertificateProvider;

export interface FakeControlPlaneOptions {
  readonly trustDomain?: string;
  /** Lifetime of workload certificates it signs. */
  readonly ttlMs?: number;
  readonly ca?: CertificateAuthority;
  /** The SPIFFE ID in its own server certificate (to play an impostor). */
  readonly serverSpiffeId?: string;
}

export interface SignRecord {
  readonly spiffeId: string;
  readonly viaToken: boolean;
  readonly proxyId?: string;
}

interface OpenStream {
  readonly call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  readonly peer: string;
}

/** gRPC error with the stable-code trailer the real control plane sends. */
function status(code: grpc.status, details: string, weftCode: string): Partial<grpc.StatusObject> {
  const metadata = new grpc.Metadata();
  metadata.set('weft-error-code', weftCode);
  return { code, details, metadata };
}

/**
 * Static certificates served to grpc-js through its CertificateProvider interface. Listeners are
 * called in a microtask: grpc-js registers its watcher only after adding the listener, so an
 * update delivered synchronously is lost and the server drops every connection.
 */
function staticProvider(certPem: string, keyPem: string, caPem: string): CertificateProvider {
  return {
    addCaCertificateListener: (l) => queueMicrotask(() => l({ caCertificate: Buffer.from(caPem) })),
    removeCaCertificateListener: () => undefined,
    addIdentityCertificateListener: (l) => queueMicrotask(() => l({ certificate: Buffer.from(certPem), privateKey: Buffer.from(keyPem) })),
    removeIdentityCertificateListener: () => undefined,
  };
}

export class FakeControlPlane {
  readonly ca: CertificateAuthority;
  readonly trustDomain: string;
  ttlMs: number;
  /** Renewals (mTLS, no token) fail with UNAVAILABLE while true. */
  failRenewals = false;
  /** Signs with this CA instead of `ca`, and answers with `bundle`, when set (a root rotation). */
  signer: CertificateAuthority | undefined;
  bundle: string[] | undefined;
  /** While true, a new stream gets no snapshot until the next push (to observe "no config yet"). */
  holdSnapshots = false;
  readonly signs: SignRecord[] = [];
  readonly nodes: WireNode[] = [];
  readonly acks: { version: string; nonce: string }[] = [];
  readonly nacks: { version: string; nonce: string; error: string }[] = [];
  snapshot: Snapshot;
  #version = 0;
  #port = 0;
  #server: grpc.Server | undefined;
  readonly #streams = new Set<OpenStream>();
  readonly #tokens = new Map<string, string>();
  readonly #credentials: grpc.ServerCredentials;

  private constructor(options: FakeControlPlaneOptions) {
    this.trustDomain = options.trustDomain ?? 'weft.local';
    this.ca = options.ca ?? CertificateAuthority.createRoot(this.trustDomain);
    this.ttlMs = options.ttlMs ?? 3_600_000;
    const keys = generateKeyPair();
    const uri = options.serverSpiffeId ?? spiffeId({ trustDomain: this.trustDomain, namespace: CONTROL_PLANE_NAMESPACE, service: CONTROL_PLANE_SERVICE });
    const leaf = this.ca.issue({ publicKeyPem: keys.publicKeyPem, uris: [uri], ttlMs: 3_600_000, usage: 'server' });
    // Leaf + root, as the real control plane presents them (the sidecar pins the root from there).
    const provider = staticProvider(leaf.certificatePem + this.ca.rootPem, keys.privateKeyPem, this.ca.rootPem);
    // Client certificates optional but verified: renewals and discovery present one, first contact does not.
    // One provider in both places: grpc-js's exported helper names its arguments in the opposite
    // order to the class it builds, so passing the same object keeps us out of that trap.
    this.#credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
    this.snapshot = this.makeSnapshot();
  }

  static async start(options: FakeControlPlaneOptions = {}): Promise<FakeControlPlane> {
    const cp = new FakeControlPlane(options);
    await cp.listen(0);
    return cp;
  }

  get port(): number {
    return this.#port;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get openStreams(): number {
    return this.#streams.size;
  }

  /** A join token for one identity, in the real format. */
  tokenFor(service: string, namespace = 'default'): string {
    const id = randomBytes(3).toString('hex');
    const secret = randomBytes(16).toString('hex');
    const token = `weft1.${certificateFingerprint(this.ca.rootPem)}.${id}.${secret}`;
    this.#tokens.set(token, spiffeId({ trustDomain: this.trustDomain, namespace, service }));
    return token;
  }

  makeSnapshot(meshConfigJson = '{}'): Snapshot {
    return { meshConfigJson, resources: [], services: [], trustBundlePem: [this.ca.rootPem], storeRevision: 1 };
  }

  /** Pushes `snapshot` as a new version to every open stream. */
  push(snapshot: Snapshot): string {
    this.snapshot = snapshot;
    this.#version += 1;
    for (const stream of this.#streams) this.#send(stream);
    return String(this.#version);
  }

  async stop(): Promise<void> {
    for (const s of this.#streams) s.call.destroy();
    this.#streams.clear();
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  /** Stops and listens again on the same port with the same CA, as a restarted control plane. */
  async restart(): Promise<void> {
    const port = this.#port;
    await this.stop();
    await this.listen(port);
  }

  private async listen(port: number): Promise<void> {
    const server = new grpc.Server();
    const services = loadWeftServices();
    server.addService(services.Identity.service, { Sign: this.#sign });
    server.addService(services.Discovery.service, { Stream: this.#stream });
    this.#port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, this.#credentials, (err, p) => (err ? reject(err) : resolve(p))));
    this.#server = server;
  }

  #peerSpiffeId(call: { getAuthContext(): { sslPeerCertificate?: { subjectaltname?: string } } }): string | undefined {
    return sanValues(call.getAuthContext().sslPeerCertificate?.subjectaltname, 'URI:')[0];
  }

  readonly #sign = (call: grpc.ServerUnaryCall<SignRequest, SignResponse>, callback: grpc.sendUnaryData<SignResponse>): void => {
    let csr;
    try {
      csr = parseCsr(call.request.csrPem);
    } catch (err) {
      return callback(status(grpc.status.INVALID_ARGUMENT, (err as Error).message, 'WEFT_ERR_BAD_CSR'));
    }
    const wanted = csr.uris[0] ?? '';
    const { token } = call.request;
    if (token) {
      const allowed = this.#tokens.get(token);
      if (!allowed) return callback(status(grpc.status.UNAUTHENTICATED, 'the join token is not valid', 'WEFT_ERR_TOKEN_INVALID'));
      if (allowed !== wanted) return callback(status(grpc.status.PERMISSION_DENIED, `the token is for ${allowed}, not ${wanted}`, 'WEFT_ERR_IDENTITY_MISMATCH'));
    } else {
      const peer = this.#peerSpiffeId(call);
      if (!peer) return callback(status(grpc.status.UNAUTHENTICATED, 'renewal needs the current certificate', 'WEFT_ERR_UNAUTHENTICATED'));
      if (peer !== wanted) return callback(status(grpc.status.PERMISSION_DENIED, `${peer} cannot renew ${wanted}`, 'WEFT_ERR_IDENTITY_MISMATCH'));
      if (this.failRenewals) return callback(status(grpc.status.UNAVAILABLE, 'renewals are failing (test)', 'WEFT_ERR_CLOSED'));
    }
    const issued = (this.signer ?? this.ca).issue({ publicKeyPem: csr.publicKeyPem, uris: [wanted], ttlMs: this.ttlMs, usage: 'workload' });
    this.signs.push({ spiffeId: wanted, viaToken: token !== '', ...(call.request.proxyId ? { proxyId: call.request.proxyId } : {}) });
    callback(null, { certificateChainPem: [...issued.chainPem], trustBundlePem: this.bundle ?? [this.ca.rootPem], expiresAtMs: issued.notAfter.getTime(), spiffeId: wanted });
  };

  readonly #stream = (call: grpc.ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void => {
    const peer = this.#peerSpiffeId(call);
    const identity = peer ? parseSpiffeId(peer) : undefined;
    if (!peer || !identity) {
      call.emit('error', status(grpc.status.UNAUTHENTICATED, 'discovery needs a mesh certificate', 'WEFT_ERR_UNAUTHENTICATED'));
      return;
    }
    const stream: OpenStream = { call, peer };
    call.on('data', (req: DiscoveryRequest) => {
      if (req.node) {
        if (req.node.service !== identity.service || req.node.namespace !== identity.namespace) {
          call.emit('error', status(grpc.status.PERMISSION_DENIED, `node says ${req.node.namespace}/${req.node.service} but the certificate is ${peer}`, 'WEFT_ERR_IDENTITY_MISMATCH'));
          return;
        }
        this.nodes.push(req.node);
        if (!this.#streams.has(stream)) {
          this.#streams.add(stream);
          if (this.holdSnapshots) return;
          if (this.#version === 0) this.#version = 1;
          this.#send(stream);
        }
      } else if (req.error) this.nacks.push({ version: req.version, nonce: req.responseNonce, error: req.error });
      else this.acks.push({ version: req.version, nonce: req.responseNonce });
    });
    const drop = (): void => void this.#streams.delete(stream);
    call.on('end', () => {
      drop();
      call.end();
    });
    call.on('error', drop);
    call.on('cancelled', drop);
  };

  #send(stream: OpenStream): void {
    stream.call.write({ version: String(this.#version), nonce: randomBytes(4).toString('hex'), snapshot: this.snapshot });
  }
}
