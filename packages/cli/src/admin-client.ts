import * as grpc from '@grpc/grpc-js';
import {
  CONTROL_PLANE_MAX_MESSAGE_BYTES,
  connectFailure,
  loadWeftServices,
  weftVersion,
  type ApplyRequest,
  type ApplyResponse,
  type CreateTokenRequest,
  type CreateTokenResponse,
  type DeleteRequest,
  type DeleteResponse,
  type GetRequest,
  type GetResponse,
  type CaStatus,
  type ControlPlaneStatus,
  type ListProxiesResponse,
  type ProxyConfig,
  type ListServicesResponse,
  type ListTokensResponse,
  type RemoveProxyResponse,
  type RevokeTokenResponse,
  type RotateRootRequest,
  type VersionInfo,
  type EdgesResponse,
  type StatRequest,
  type StatResponse,
  type TapRequest,
  type TapResponse,
} from '@weft/api';
import { checkControlPlaneIdentity } from '@weft/pki/workload';
import type { LoadedConfig } from './client-config';
import { CliError } from './errors';
import { mebibytes } from './output/format';

/** The admin API as commands see it: promises, and errors already turned into CliErrors. */
export interface AdminApi {
  apply(req: ApplyRequest): Promise<ApplyResponse>;
  get(req: GetRequest): Promise<GetResponse>;
  delete(req: DeleteRequest): Promise<DeleteResponse>;
  listProxies(): Promise<ListProxiesResponse>;
  listServices(): Promise<ListServicesResponse>;
  createToken(req: CreateTokenRequest): Promise<CreateTokenResponse>;
  listTokens(): Promise<ListTokensResponse>;
  revokeToken(id: string): Promise<RevokeTokenResponse>;
  removeProxy(proxyId: string): Promise<RemoveProxyResponse>;
  rotateRoot(req: RotateRootRequest): Promise<CaStatus>;
  caStatus(): Promise<CaStatus>;
  version(): Promise<VersionInfo>;
  status(): Promise<ControlPlaneStatus>;
  proxyConfig(proxyId: string): Promise<ProxyConfig>;
  stat(req: StatRequest): Promise<StatResponse>;
  edges(): Promise<EdgesResponse>;
  /** Streams tap messages to `onMessage` until the server ends the tap (resolves) or it fails (rejects). */
  tap(req: TapRequest, onMessage: (message: TapResponse) => void): Promise<void>;
  close(): void;
}

/** One answer within this long, or the call fails: a CLI must not hang on a half-open connection. */
const CALL_TIMEOUT_MS = 15_000;

/** Turns a gRPC failure into a message that says what to do next. */
export function describeGrpcError(err: grpc.ServiceError, loaded: LoadedConfig): CliError {
  const details = err.details || err.message;
  const where = `(config: ${loaded.path})`;
  // A replica of an HA control plane that cannot write (etcd out of reach, a lost race) said why:
  // its message names what to do, and "cannot reach the control plane" would mislead.
  const serverCode = err.metadata?.get('weft-error-code')[0];
  if (serverCode === 'WEFT_ERR_STORE_UNAVAILABLE' || serverCode === 'WEFT_ERR_CONFLICT') return new CliError(serverCode, `${details} (${serverCode})`);
  switch (err.code) {
    case grpc.status.UNAVAILABLE: {
      const failed = connectFailure(details);
      const check = failed?.startsWith('TLS')
        ? `Is ${loaded.path} the weftctl.json this control plane wrote?`
        : `Is weft-control-plane running, and is the endpoint in ${loaded.path} right?`;
      // One line: where, what failed, what to check (grpc-js's own wording says little of that).
      return new CliError('WEFT_ERR_UNAVAILABLE', `cannot reach the control plane at ${loaded.config.endpoint}: ${failed ?? details}. ${check}`, { cause: err });
    }
    case grpc.status.DEADLINE_EXCEEDED:
      return new CliError('WEFT_ERR_TIMEOUT', `the control plane at ${loaded.config.endpoint} did not answer within ${CALL_TIMEOUT_MS / 1000}s ${where}`);
    case grpc.status.INVALID_ARGUMENT:
      // The server's validation report: one issue per line, already in the operator's terms.
      return new CliError('WEFT_ERR_INVALID_RESOURCE', details, { plain: true });
    case grpc.status.NOT_FOUND:
      return new CliError('WEFT_ERR_NOT_FOUND', details);
    case grpc.status.FAILED_PRECONDITION:
      // The server's message says what state it is in and what to do (a rotation in progress).
      return new CliError('WEFT_ERR_PRECONDITION', details);
    case grpc.status.RESOURCE_EXHAUSTED:
      // grpc-js's wording ("Received message larger than max (N vs M)") says neither which limit nor what to do.
      return new CliError(
        'WEFT_ERR_APPLY_TOO_LARGE',
        `the control plane at ${loaded.config.endpoint} refused the request as too large (${details}); it accepts at most ${mebibytes(CONTROL_PLANE_MAX_MESSAGE_BYTES)} per request: split the resources into several files and apply each on its own`,
      );
    case grpc.status.UNIMPLEMENTED:
      return new CliError('WEFT_ERR_UNIMPLEMENTED', `the control plane at ${loaded.config.endpoint} does not offer this call: it is older than this weftctl (${weftVersion()})`);
    case grpc.status.PERMISSION_DENIED:
    case grpc.status.UNAUTHENTICATED:
      return new CliError('WEFT_ERR_PERMISSION_DENIED', `the control plane refused the operator credential: ${details} ${where}`);
    default:
      return new CliError('WEFT_ERR_SERVER', `the control plane failed the request (${grpc.status[err.code] ?? err.code}): ${details}`);
  }
}

export function connectAdmin(loaded: LoadedConfig): AdminApi {
  const { config } = loaded;
  const Admin = loadWeftServices().Admin;
  const creds = grpc.credentials.createSsl(
    Buffer.from(config.caPem),
    Buffer.from(config.privateKeyPem),
    Buffer.from(config.certificatePem),
    { checkServerIdentity: checkControlPlaneIdentity(config.controlPlaneSpiffeId) },
  );
  const client = new Admin(config.endpoint, creds, {
    // A non-IP server name for SNI: Node warns when SNI is an IP address. The name itself is not
    // checked (checkServerIdentity above checks the SPIFFE ID).
    'grpc.ssl_target_name_override': 'weft-control-plane',
    'grpc.default_authority': 'weft-control-plane',
  });
  const unary = <Req, Res>(method: string, req: Req): Promise<Res> => {
    const def = Admin.service[method];
    if (!def) throw new Error(`Admin.${method} is not in admin.proto`);
    const size = (def.requestSerialize as (value: Req) => Buffer)(req).length;
    if (size > CONTROL_PLANE_MAX_MESSAGE_BYTES) {
      // YAML can grow when sent as JSON; what counts is the message, and the server would refuse it.
      return Promise.reject(
        new CliError(
          'WEFT_ERR_APPLY_TOO_LARGE',
          `the ${method} request is ${mebibytes(size)}, over the ${mebibytes(CONTROL_PLANE_MAX_MESSAGE_BYTES)} the control plane accepts in one request: split the resources into several files and apply each on its own (nothing was sent)`,
        ),
      );
    }
    return new Promise<Res>((resolve, reject) => {
      client.makeUnaryRequest<Req, Res>(
        def.path,
        def.requestSerialize as (value: Req) => Buffer,
        def.responseDeserialize as (value: Buffer) => Res,
        req,
        new grpc.Metadata(),
        { deadline: Date.now() + CALL_TIMEOUT_MS },
        (err, res) => (err ? reject(describeGrpcError(err, loaded)) : resolve(res as Res)),
      );
    });
  };
  return {
    apply: (req) => unary('Apply', req),
    get: (req) => unary('Get', req),
    delete: (req) => unary('Delete', req),
    listProxies: () => unary('ListProxies', {}),
    listServices: () => unary('ListServices', {}),
    createToken: (req) => unary('CreateToken', req),
    listTokens: () => unary('ListTokens', {}),
    revokeToken: (id) => unary('RevokeToken', { id }),
    removeProxy: (proxyId) => unary('RemoveProxy', { proxyId }),
    rotateRoot: (req) => unary('RotateRoot', req),
    caStatus: () => unary('GetCaStatus', {}),
    version: () => unary('GetVersion', {}),
    status: () => unary('GetStatus', {}),
    proxyConfig: (proxyId) => unary('GetProxyConfig', { proxyId }),
    stat: (req) => unary('Stat', req),
    edges: () => unary('Edges', { timeoutMs: 0 }),
    tap: (req, onMessage) => {
      const def = Admin.service['Tap'];
      if (!def) throw new Error('Admin.Tap is not in admin.proto');
      return new Promise<void>((resolve, reject) => {
        // No deadline: the tap runs for its duration (the server ends it), or until weftctl is stopped.
        const call = client.makeServerStreamRequest<TapRequest, TapResponse>(
          def.path,
          def.requestSerialize as (value: TapRequest) => Buffer,
          def.responseDeserialize as (value: Buffer) => TapResponse,
          req,
          new grpc.Metadata(),
          {},
        );
        call.on('data', onMessage);
        call.on('error', (err: grpc.ServiceError) => reject(describeGrpcError(err, loaded)));
        call.on('end', () => resolve());
      });
    },
    close: () => client.close(),
  };
}
