import type * as grpc from '@grpc/grpc-js';
import {
  CONTROL_PLANE_NAMESPACE,
  DEFAULT_NAMESPACE,
  NAME_RE,
  type ApplyRequest,
  type ApplyResponse,
  type CreateTokenRequest,
  type CreateTokenResponse,
  type DeleteRequest,
  type DeleteResponse,
  type GetRequest,
  type GetResponse,
  type CaStatus,
  type RegistryStatus,
  type ControlPlaneStatus,
  type GetProxyConfigRequest,
  type ListProxiesResponse,
  type ListServicesResponse,
  type ListTokensResponse,
  type Logger,
  type RemoveProxyRequest,
  type RevokeTokenRequest,
  type RevokeTokenResponse,
  type RotateRootRequest,
  type StatRequest,
  type EdgesRequest,
  type TapRequest,
  type TapResponse,
  type VersionInfo,
  weftVersion,
} from '@weft/api';
import type { Refusals } from '../audit/refusals';
import { peerIdentity, type CallWithAuthContext } from '../auth/peer-identity';
import { operatorSpiffeId } from '../bootstrap/operator-credential';
import type { CaRotation } from '../ca/ca-rotation';
import { caStatus } from '../ca/ca-status';
import type { MeshAuthority } from '../ca/mesh-authority';
import type { ProxyTable } from '../discovery/proxy-table';
import type { SnapshotBuilder } from '../discovery/snapshot';
import { ControlPlaneError } from '../errors';
import { toStatus, unary } from '../grpc/status';
import type { Registry } from '../registry/registry';
import type { Store } from '../store/store';
import type { JoinTokens } from '../tokens/tokens';
import { resourcesFromDocuments } from './apply-documents';
import { getResources, kindFor, namespaceFor } from './get-resources';
import { servicesToWire, type ServiceSource } from '../registry/registry-wire';
import { proxyConfig, withVerification } from './proxy-config';
import { removeProxy, type RemoveProxyContext } from './remove-proxy';
import { edges, stat } from './observe-stat';
import { tap } from './observe-tap';
import { tokenInfo } from './token-info';

export interface AdminContext extends RemoveProxyContext {
  readonly trustDomain: string;
  readonly store: Store;
  readonly registry: Registry;
  /** Endpoints as callers get them: the registry, merged with Consul's catalog under --registry consul. */
  readonly services: ServiceSource;
  readonly proxies: ProxyTable;
  readonly tokens: JoinTokens;
  readonly log: Logger;
  readonly mesh: MeshAuthority;
  readonly rotation: CaRotation;
  readonly refusals: Refusals;
  readonly snapshots: SnapshotBuilder;
  /** The HTTP server's bound address and whether the control plane is ready (for `weftctl check`). */
  readonly health: () => { readonly httpAddress: string; readonly ready: boolean; readonly registry?: RegistryStatus };
}

const MAX_ROOT_VALIDITY_S = 30 * 365 * 86_400;

const DEFAULT_TOKEN_TTL_S = 86_400;
/** One sidecar per token unless the operator says otherwise: see docs/security.md (join tokens). */
const DEFAULT_TOKEN_MAX_USES = 1;
const MAX_TOKEN_TTL_S = 365 * 86_400;

/** The operator API. Every call requires the operator certificate, and nothing else will do. */
export class AdminService {
  readonly #ctx: AdminContext;
  readonly #operatorId: string;

  constructor(ctx: AdminContext) {
    this.#ctx = ctx;
    this.#operatorId = operatorSpiffeId(ctx.trustDomain);
  }

  get implementation(): grpc.UntypedServiceImplementation {
    const log = this.#ctx.log;
    const guarded = <Req, Res>(name: string, impl: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> =>
      unary<Req, Res>(`Admin.${name}`, log, async (call) => {
        try {
          this.#requireOperator(call);
        } catch (err) {
          this.#ctx.refusals.record(call, `Admin.${name}`, err, { identity: peerIdentity(call)?.spiffeId });
          throw err;
        }
        return impl(call.request);
      });
    return {
      Apply: guarded('Apply', (req: ApplyRequest) => this.#apply(req)),
      Get: guarded('Get', (req: GetRequest) => this.#get(req)),
      Delete: guarded('Delete', (req: DeleteRequest) => this.#delete(req)),
      ListProxies: guarded('ListProxies', async (): Promise<ListProxiesResponse> => ({
        proxies: this.#ctx.proxies.list().map((p) => withVerification(this.#ctx.registry, p)),
        currentRevision: String(this.#ctx.store.revision),
      })),
      ListServices: guarded('ListServices', async (): Promise<ListServicesResponse> => ({
        services: servicesToWire(this.#ctx.services, this.#ctx.trustDomain),
      })),
      CreateToken: guarded('CreateToken', (req: CreateTokenRequest) => this.#createToken(req)),
      ListTokens: guarded('ListTokens', async (): Promise<ListTokensResponse> => ({
        tokens: (await this.#ctx.tokens.list()).map((t) => tokenInfo(t, Date.now())).sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id)),
      })),
      RevokeToken: guarded('RevokeToken', (req: RevokeTokenRequest) => this.#revokeToken(req)),
      RemoveProxy: guarded('RemoveProxy', (req: RemoveProxyRequest) => removeProxy(this.#ctx, (req.proxyId ?? '').trim())),
      RotateRoot: guarded('RotateRoot', (req: RotateRootRequest) => this.#rotateRoot(req)),
      GetCaStatus: guarded('GetCaStatus', async (): Promise<CaStatus> => caStatus(this.#ctx.mesh, this.#ctx.rotation)),
      GetVersion: guarded('GetVersion', async (): Promise<VersionInfo> => ({ version: weftVersion() })),
      GetStatus: guarded('GetStatus', async (): Promise<ControlPlaneStatus> => ({ version: weftVersion(), ...this.#ctx.health(), nowMs: Date.now() })),
      GetProxyConfig: guarded('GetProxyConfig', async (req: GetProxyConfigRequest) => proxyConfig(this.#ctx, req)),
      Stat: guarded('Stat', (req: StatRequest) => stat(this.#ctx.discovery.observations, req)),
      Edges: guarded('Edges', (req: EdgesRequest) => edges(this.#ctx.discovery.observations, req)),
      Tap: (call: grpc.ServerWritableStream<TapRequest, TapResponse>) => {
        // The same guard as every unary call: a tap shows live traffic, so the operator alone may open one.
        try {
          this.#requireOperator(call);
        } catch (err) {
          this.#ctx.refusals.record(call, 'Admin.Tap', err, { identity: peerIdentity(call)?.spiffeId });
          call.emit('error', toStatus(err, log, 'Admin.Tap'));
          return;
        }
        try {
          tap(this.#ctx.discovery.observations, call);
        } catch (err) {
          call.emit('error', toStatus(err, log, 'Admin.Tap'));
        }
      },
    };
  }

  #requireOperator(call: CallWithAuthContext): void {
    const peer = peerIdentity(call);
    if (!peer) {
      throw new ControlPlaneError('WEFT_ERR_UNAUTHENTICATED', 'the admin API requires the operator certificate: use weftctl with the weftctl.json the control plane wrote to its data directory');
    }
    if (peer.spiffeId !== this.#operatorId) {
      throw new ControlPlaneError(
        'WEFT_ERR_PERMISSION_DENIED',
        `the admin API accepts only the operator certificate (${this.#operatorId}); this call presented ${peer.spiffeId}`,
      );
    }
  }

  async #apply(req: ApplyRequest): Promise<ApplyResponse> {
    const resources = resourcesFromDocuments(req.documents ?? [], this.#ctx.trustDomain);
    const outcome = await this.#ctx.store.apply(resources, { dryRun: req.dryRun === true });
    if (!outcome.dryRun) {
      const changed = outcome.results.filter((r) => r.action !== 'unchanged').length;
      this.#ctx.log.info('applied resources', { revision: outcome.revision, resources: outcome.results.length, changed });
    }
    return { results: outcome.results.map((r) => ({ ...r })), revision: outcome.revision, dryRun: outcome.dryRun };
  }

  async #get(req: GetRequest): Promise<GetResponse> {
    const items = getResources(this.#ctx.store, this.#ctx.trustDomain, req);
    return { itemsJson: items.map((r) => JSON.stringify(r)), revision: this.#ctx.store.revision };
  }

  async #delete(req: DeleteRequest): Promise<DeleteResponse> {
    const kind = kindFor(req.kind);
    if (!req.name) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `name is required to delete a ${kind}`);
    const namespace = namespaceFor(kind, req.namespace);
    const outcome = await this.#ctx.store.delete(kind, namespace, req.name);
    if (!outcome.deleted) {
      throw new ControlPlaneError('WEFT_ERR_NOT_FOUND', `${kind} ${namespace ? `${namespace}/` : ''}${req.name} not found`);
    }
    this.#ctx.log.info('deleted resource', { kind, namespace, name: req.name, revision: outcome.revision });
    return { revision: outcome.revision };
  }

  async #revokeToken(req: RevokeTokenRequest): Promise<RevokeTokenResponse> {
    const record = await this.#ctx.tokens.revoke((req.id ?? '').trim());
    this.#ctx.log.info('join token revoked', { tokenId: record.id, spiffeId: record.spiffeId });
    return { token: tokenInfo(record, Date.now()) };
  }

  async #rotateRoot(req: RotateRootRequest): Promise<CaStatus> {
    const seconds = Number(req.rootValiditySeconds ?? 0);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_ROOT_VALIDITY_S) {
      throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `rootValiditySeconds must be between 0 (the default, 10 years) and ${MAX_ROOT_VALIDITY_S} (30 years)`);
    }
    await this.#ctx.rotation.start(seconds * 1000);
    return caStatus(this.#ctx.mesh, this.#ctx.rotation);
  }

  async #createToken(req: CreateTokenRequest): Promise<CreateTokenResponse> {
    const service = req.service ?? '';
    const namespace = req.namespace || DEFAULT_NAMESPACE;
    if (!NAME_RE.test(service)) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `service ${JSON.stringify(service)} must be a DNS label: lower-case letters, digits and "-", at most 63 characters`);
    if (!NAME_RE.test(namespace)) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `namespace ${JSON.stringify(namespace)} must be a DNS label: lower-case letters, digits and "-", at most 63 characters`);
    if (namespace === CONTROL_PLANE_NAMESPACE) {
      throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `namespace ${CONTROL_PLANE_NAMESPACE} is reserved for the control plane and the operator: no join token can be bound to it`);
    }
    const ttlSeconds = Number(req.ttlSeconds ?? 0);
    const requestedUses = Number(req.maxUses ?? 0);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_TOKEN_TTL_S) {
      throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `ttlSeconds must be between 0 (the default, 24h) and ${MAX_TOKEN_TTL_S} (one year)`);
    }
    if (!Number.isInteger(requestedUses) || requestedUses < 0) {
      throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `maxUses must be 0 (the default, ${DEFAULT_TOKEN_MAX_USES}) or a positive number`);
    }
    if (req.unlimitedUses === true && requestedUses > 0) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', 'set either maxUses or unlimitedUses, not both');
    // 0 in the token record means no limit within the TTL.
    const maxUses = req.unlimitedUses === true ? 0 : requestedUses || DEFAULT_TOKEN_MAX_USES;
    const created = await this.#ctx.tokens.create({ service, namespace, ttlMs: (ttlSeconds || DEFAULT_TOKEN_TTL_S) * 1000, maxUses });
    // The id names the token in logs; the token itself (it holds the secret) is never logged.
    this.#ctx.log.info('join token created', { tokenId: created.id, spiffeId: created.spiffeId, expiresAtMs: created.expiresAtMs, maxUses });
    return { token: created.token, expiresAtMs: created.expiresAtMs, spiffeId: created.spiffeId };
  }
}
