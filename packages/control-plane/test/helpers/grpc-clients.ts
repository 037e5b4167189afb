import * as fs from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { loadWeftServices, type CreateTokenResponse, type SignResponse } from '@weft/api';
import { checkControlPlaneIdentity, createCsr, generateKeyPair } from '@weft/pki';
import type { OperatorConfig, RunningControlPlane } from '../../src/index';

export interface ClientCredential {
  readonly privateKeyPem: string;
  readonly certificateChainPem: string;
}

export async function readOperatorConfig(cp: RunningControlPlane): Promise<OperatorConfig> {
  return JSON.parse(await fs.readFile(cp.operatorConfigPath, 'utf8')) as OperatorConfig;
}

/** TLS to the control plane, checking that the server is the control plane by its SPIFFE ID. */
export function channelCredentials(config: OperatorConfig, client?: ClientCredential): grpc.ChannelCredentials {
  const checkServerIdentity = checkControlPlaneIdentity(config.controlPlaneSpiffeId);
  return grpc.credentials.createSsl(
    Buffer.from(config.caPem),
    client ? Buffer.from(client.privateKeyPem) : null,
    client ? Buffer.from(client.certificateChainPem) : null,
    { checkServerIdentity },
  );
}

export type ServiceName = 'Identity' | 'Discovery' | 'Admin';

export function makeClient(cp: RunningControlPlane, config: OperatorConfig, service: ServiceName, client?: ClientCredential): grpc.Client {
  const Ctor = loadWeftServices()[service];
  // SNI must be a name, not an IP (RFC 6066); the serving certificate carries this DNS SAN.
  return new Ctor(`127.0.0.1:${cp.grpcPort}`, channelCredentials(config, client), { 'grpc.ssl_target_name_override': 'weft-control-plane' });
}

export function operatorCredential(config: OperatorConfig): ClientCredential {
  return { privateKeyPem: config.privateKeyPem, certificateChainPem: config.certificatePem };
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
    return { credential: { privateKeyPem: keys.privateKeyPem, certificateChainPem: response.certificateChainPem.join('') }, response };
  } finally {
    identity.close();
  }
}
