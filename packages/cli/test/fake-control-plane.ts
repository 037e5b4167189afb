import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  CONTROL_PLANE_NAMESPACE,
  CONTROL_PLANE_SERVICE,
  KINDS,
  OPERATOR_SERVICE,
  loadWeftServices,
  resourceKey,
  spiffeId,
  validateDocuments,
  ValidationError,
  type ApplyRequest,
  type AppliedResource,
  type CreateTokenRequest,
  type DeleteRequest,
  type GetRequest,
  type ProxyStatus,
  type WireServiceEndpoints,
} from '@weft/api';
import { CertificateAuthority, generateKeyPair } from '@weft/pki';

/**
 * A stand-in for the admin API of weft-control-plane: real gRPC over mutual TLS with certificates
 * from @weft/pki, an in-memory store, and canned proxies and services. It lets the CLI's wire
 * path (TLS, SPIFFE identity check, error mapping) be tested while the real control plane is
 * being written; the same scenarios run against the real one when it is available.
 */
export interface FakeControlPlane {
  readonly configPath: string;
  readonly endpoint: string;
  /** Stored resources by `Kind/namespace/name`. */
  readonly store: Map<string, string>;
  proxies: ProxyStatus[];
  services: WireServiceEndpoints[];
  /** When set, Apply answers INVALID_ARGUMENT with this text (checks the server could not make). */
  applyRejection: string | undefined;
  close(): Promise<void>;
}

const TRUST_DOMAIN = 'weft.local';
type Callback = grpc.sendUnaryData<unknown>;
type Call<T> = grpc.ServerUnaryCall<T, unknown>;

function fail(cb: Callback, code: grpc.status, details: string): void {
  cb({ code, details, name: 'Error', message: details, metadata: new grpc.Metadata() });
}

export async function startFakeControlPlane(options: { serverIdentity?: string } = {}): Promise<FakeControlPlane> {
  const ca = CertificateAuthority.createRoot(TRUST_DOMAIN);
  const controlPlaneId = spiffeId({ trustDomain: TRUST_DOMAIN, namespace: CONTROL_PLANE_NAMESPACE, service: CONTROL_PLANE_SERVICE });
  const serverKeys = generateKeyPair();
  const server = ca.issue({ publicKeyPem: serverKeys.publicKeyPem, ttlMs: 3_600_000, usage: 'server', uris: [options.serverIdentity ?? controlPlaneId] });
  const operatorKeys = generateKeyPair();
  const operator = ca.issue({
    publicKeyPem: operatorKeys.publicKeyPem,
    ttlMs: 3_600_000,
    usage: 'client',
    uris: [spiffeId({ trustDomain: TRUST_DOMAIN, namespace: CONTROL_PLANE_NAMESPACE, service: OPERATOR_SERVICE })],
  });

  const store = new Map<string, string>();
  const state = { proxies: [] as ProxyStatus[], services: [] as WireServiceEndpoints[], applyRejection: undefined as string | undefined };
  let revision = 0;

  const handlers = {
    Apply(call: Call<ApplyRequest>, cb: Callback) {
      if (state.applyRejection) return fail(cb, grpc.status.INVALID_ARGUMENT, state.applyRejection);
      try {
        const docs = call.request.documents.map((d) => ({ source: d.source, document: d.index, value: JSON.parse(d.json) as unknown }));
        const resources = validateDocuments(docs);
        const results: AppliedResource[] = resources.map((r) => {
          const key = resourceKey(r.kind, r.metadata.namespace, r.metadata.name);
          const json = JSON.stringify(r);
          const before = store.get(key);
          if (!call.request.dryRun) store.set(key, json);
          const action = before === undefined ? 'created' : before === json ? 'unchanged' : 'configured';
          return { kind: r.kind, namespace: r.metadata.namespace, name: r.metadata.name, action };
        });
        if (!call.request.dryRun) revision += 1;
        cb(null, { results, revision, dryRun: call.request.dryRun });
      } catch (err) {
        fail(cb, grpc.status.INVALID_ARGUMENT, err instanceof ValidationError ? err.message : String(err));
      }
    },
    Get(call: Call<GetRequest>, cb: Callback) {
      const { kind, namespace, name } = call.request;
      const itemsJson = [...store.entries()]
        .filter(([key]) => {
          const [k, ns, n] = key.split('/');
          return k === kind && (!namespace || ns === namespace) && (!name || n === name);
        })
        .map(([, json]) => json);
      cb(null, { itemsJson, revision });
    },
    Delete(call: Call<DeleteRequest>, cb: Callback) {
      const { kind, namespace, name } = call.request;
      if (!(kind in KINDS)) return fail(cb, grpc.status.INVALID_ARGUMENT, `unknown kind ${kind}`);
      const key = resourceKey(kind as keyof typeof KINDS, namespace, name);
      if (!store.delete(key)) return fail(cb, grpc.status.NOT_FOUND, `${kind} ${namespace}/${name} not found`);
      revision += 1;
      cb(null, { revision });
    },
    ListProxies(_call: Call<unknown>, cb: Callback) {
      cb(null, { proxies: state.proxies, currentRevision: String(revision) });
    },
    ListServices(_call: Call<unknown>, cb: Callback) {
      cb(null, { services: state.services });
    },
    CreateToken(call: Call<CreateTokenRequest>, cb: Callback) {
      const { service, namespace, ttlSeconds } = call.request;
      cb(null, {
        token: `wft1.${service}.${Math.random().toString(36).slice(2)}`,
        expiresAtMs: Date.now() + (ttlSeconds || 86_400) * 1000,
        spiffeId: spiffeId({ trustDomain: TRUST_DOMAIN, namespace, service }),
      });
    },
  };

  const grpcServer = new grpc.Server();
  grpcServer.addService(loadWeftServices().Admin.service, handlers as unknown as grpc.UntypedServiceImplementation);
  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(ca.rootPem),
    [{ private_key: Buffer.from(serverKeys.privateKeyPem), cert_chain: Buffer.from(server.certificatePem) }],
    true,
  );
  const port = await new Promise<number>((resolve, reject) =>
    grpcServer.bindAsync('127.0.0.1:0', creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  const endpoint = `127.0.0.1:${port}`;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weftctl-test-'));
  const configPath = path.join(dir, 'weftctl.json');
  const config = {
    endpoint,
    trustDomain: TRUST_DOMAIN,
    caPem: ca.rootPem,
    certificatePem: operator.certificatePem,
    privateKeyPem: operatorKeys.privateKeyPem,
    controlPlaneSpiffeId: controlPlaneId,
  };
  await fs.writeFile(configPath, JSON.stringify(config, null, 2), { mode: 0o600 });

  return {
    configPath,
    endpoint,
    store,
    get proxies() {
      return state.proxies;
    },
    set proxies(list) {
      state.proxies = list;
    },
    get services() {
      return state.services;
    },
    set services(list) {
      state.services = list;
    },
    get applyRejection() {
      return state.applyRejection;
    },
    set applyRejection(text) {
      state.applyRejection = text;
    },
    async close() {
      grpcServer.forceShutdown();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
