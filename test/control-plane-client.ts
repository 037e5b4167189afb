/**
 * Calls on a real control plane as a test chooses to present itself (no certificate, a workload
 * certificate it obtained with a join token, or a forged one), each answered as a value: the
 * cross-process suites assert on refusals as much as on answers. The channels come from the
 * harness's `controlPlaneClient`, which always verifies the server.
 */
import * as grpc from '@grpc/grpc-js';
import { loadWeftServices, type DiscoveryRequest, type DiscoveryResponse, type OperatorConfig, type SignResponse } from '@weft/api';
import { controlPlaneClient, openDiscoveryStream, type ClientCredential, type ControlPlaneService } from '@weft/harness';
import { createCsr, generateKeyPair } from '@weft/pki';

/** The outcome of one unary call: the answer, or the status it failed with. */
export type CallResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: grpc.status; readonly details: string };

export class ControlPlaneClient {
  readonly #op: OperatorConfig;
  readonly #credential: ClientCredential | undefined;
  readonly #clients: grpc.Client[] = [];

  constructor(op: OperatorConfig, credential?: ClientCredential) {
    this.#op = op;
    this.#credential = credential;
  }

  /** Identity.Sign: a fresh key and a CSR for `spiffeId`, authenticated by `token` or by this client's certificate. */
  async sign(spiffeId: string, token = ''): Promise<CallResult<SignResponse & { privateKeyPem: string }>> {
    const keys = generateKeyPair();
    const result = await this.#unary<SignResponse>('Identity', 'Sign', { csrPem: createCsr(spiffeId, keys.privateKeyPem), token });
    return result.ok ? { ok: true, value: { ...result.value, privateKeyPem: keys.privateKeyPem } } : result;
  }

  /** Any Admin method, with this client's credential. */
  admin<T>(method: string, request: object): Promise<CallResult<T>> {
    return this.#unary<T>('Admin', method, request);
  }

  /**
   * Opens Discovery.Stream, sends `first`, and resolves with the first thing that comes back:
   * a snapshot, or the status the stream ended with.
   */
  discoverOnce(first: DiscoveryRequest, timeoutMs = 5_000): Promise<{ readonly response?: DiscoveryResponse; readonly code?: grpc.status; readonly details?: string }> {
    const call = openDiscoveryStream(this.#client('Discovery'));
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish({ details: 'no answer' }), timeoutMs);
      const finish = (outcome: { response?: DiscoveryResponse; code?: grpc.status; details?: string }): void => {
        clearTimeout(timer);
        call.removeAllListeners();
        call.on('error', () => undefined);
        call.cancel();
        resolve(outcome);
      };
      call.on('data', (response: DiscoveryResponse) => finish({ response }));
      call.on('error', (err: grpc.ServiceError) => finish({ code: err.code, details: err.details }));
      call.write(first);
    });
  }

  close(): void {
    for (const c of this.#clients.splice(0)) c.close();
  }

  #client(service: ControlPlaneService): grpc.Client {
    const client = controlPlaneClient(this.#op.endpoint, this.#op, service, this.#credential);
    this.#clients.push(client);
    return client;
  }

  #unary<T>(service: 'Identity' | 'Admin', method: string, request: object): Promise<CallResult<T>> {
    const ctor = loadWeftServices()[service];
    const def = ctor.service[method];
    if (!def) throw new Error(`${service}.${method} is not in the proto`);
    const client = this.#client(service);
    return new Promise((resolve) => {
      client.makeUnaryRequest<object, T>(
        def.path,
        def.requestSerialize as (value: object) => Buffer,
        def.responseDeserialize as (value: Buffer) => T,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + 10_000 },
        (err, value) => resolve(err ? { ok: false, code: err.code, details: err.details } : { ok: true, value: value as T }),
      );
    });
  }
}

/** A real workload credential for `service`, obtained the way a sidecar gets one: join token, then Identity.Sign. */
export async function workloadCredential(op: OperatorConfig, token: string, service: string, namespace = 'default'): Promise<ClientCredential & { spiffeId: string }> {
  const spiffeId = `spiffe://${op.trustDomain}/ns/${namespace}/sa/${service}`;
  const client = new ControlPlaneClient(op);
  try {
    const signed = await client.sign(spiffeId, token);
    if (!signed.ok) throw new Error(`Identity.Sign for ${spiffeId} failed: ${grpc.status[signed.code]}: ${signed.details}`);
    return { spiffeId, certificatePem: signed.value.certificateChainPem.join(''), privateKeyPem: signed.value.privateKeyPem };
  } finally {
    client.close();
  }
}

export { grpc };
