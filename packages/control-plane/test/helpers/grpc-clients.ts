import type * as grpc from '@grpc/grpc-js';
import type { CreateTokenResponse, SignResponse } from '@weft/api';
import { controlPlaneClient, type ClientCredential, type ControlPlaneService } from '@weft/harness';
import { createCsr, generateKeyPair } from '@weft/pki';
import type { OperatorConfig, RunningControlPlane } from '../../src/index';

export type { ClientCredential } from '@weft/harness';

/** A client of the in-process control plane `cp`, through the harness's one builder. */
export function makeClient(cp: RunningControlPlane, config: OperatorConfig, service: ControlPlaneService, client?: ClientCredential): grpc.Client {
  return controlPlaneClient(`127.0.0.1:${cp.grpcPort}`, config, service, client);
}

export function operatorCredential(config: OperatorConfig): ClientCredential {
  return { privateKeyPem: config.privateKeyPem, certificatePem: config.certificatePem };
}

/** Calls a unary method and resolves with the response, or rejects with the ServiceError. */
export function unaryCall<Res>(client: grpc.Client, method: string, request: unknown): Promise<Res> {
  const fn = (client as unknown as Record<string, (req: unknown, cb: (err: grpc.ServiceError | null, res: Res) => void) => void>)[method];
  if (!fn) throw new Error(`no method ${method}`);
  return new Promise((resolve, reject) => {
    fn.call(client, request, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Expects a call to fail; returns its ServiceError. */
export async function callError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

export async function createToken(admin: grpc.Client, service: string, extra: { namespace?: string; ttlSeconds?: number; maxUses?: number } = {}): Promise<CreateTokenResponse> {
  return unaryCall<CreateTokenResponse>(admin, 'CreateToken', { service, namespace: extra.namespace ?? '', ttlSeconds: extra.ttlSeconds ?? 0, maxUses: extra.maxUses ?? 0 });
}

/** Joins the mesh as a workload: token, key, CSR, Sign. */
export async function joinAs(
  cp: RunningControlPlane,
  config: OperatorConfig,
  admin: grpc.Client,
  service: string,
  namespace = 'default',
): Promise<{ credential: ClientCredential; response: SignResponse }> {
  const { token, spiffeId } = await createToken(admin, service, { namespace });
  const keys = generateKeyPair();
  const identity = makeClient(cp, config, 'Identity');
  try {
    const response = await unaryCall<SignResponse>(identity, 'Sign', { csrPem: createCsr(spiffeId, keys.privateKeyPem), token });
    return { credential: { privateKeyPem: keys.privateKeyPem, certificatePem: response.certificateChainPem.join('') }, response };
  } finally {
    identity.close();
  }
}
