import type * as grpc from '@grpc/grpc-js';
import {
  CONTROL_PLANE_NAMESPACE,
  DEFAULT_NAMESPACE,
  effectiveMeshConfig,
  parseDuration,
  parseJoinToken,
  parseSpiffeId,
  type Logger,
  type MeshConfigSpec,
  type SignRequest,
  type SignResponse,
} from '@weft/api';
import { normalizeSerial, parseCsr, type SubjectKey } from '@weft/pki';
import type { JoinThrottle } from '../audit/join-throttle';
import { sourceOf, type Refusals } from '../audit/refusals';
import { peerIdentity } from '../auth/peer-identity';
import type { MeshAuthority } from '../ca/mesh-authority';
import { ControlPlaneError } from '../errors';
import { unary } from '../grpc/status';
import type { Metrics } from '../metrics/metrics';
import type { CertificateLedger } from '../revocation/certificate-ledger';
import type { Revocations } from '../revocation/revocations';
import type { Store } from '../store/store';
import type { JoinTokens } from '../tokens/tokens';

export interface IdentityContext {
  readonly mesh: MeshAuthority;
  readonly store: Store;
  readonly tokens: JoinTokens;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly revocations: Revocations;
  readonly ledger: CertificateLedger;
  readonly refusals: Refusals;
  readonly throttle: JoinThrottle;
}

/**
 * Identity.Sign. First contact is authenticated by a join token bound to one identity; renewal
 * by the caller's current certificate, for the same identity only. Either way the CSR must ask
 * for exactly one SPIFFE URI SAN in this mesh's trust domain and nothing else.
 */
export class IdentityService {
  readonly #ctx: IdentityContext;

  constructor(ctx: IdentityContext) {
    this.#ctx = ctx;
  }

  get implementation(): grpc.UntypedServiceImplementation {
    return {
      Sign: unary('Identity.Sign', this.#ctx.log, (call: grpc.ServerUnaryCall<SignRequest, SignResponse>) =>
        this.#sign(call).catch((err: unknown) => {
          // Who: the address, the certificate's identity, the token's id (its secret stays in the request).
          const tokenId = parseJoinToken((call.request.token ?? '').trim())?.id;
          this.#ctx.refusals.record(call, 'Identity.Sign', err, { identity: peerIdentity(call)?.spiffeId, tokenId });
          throw err;
        }),
      ),
    };
  }

  /** Redeems a join token, behind the throttle: wrong secrets lock the token id and the source out for a while. */
  async #redeem(call: grpc.ServerUnaryCall<SignRequest, SignResponse>, token: string, spiffeId: string): Promise<{ id: string }> {
    const { tokens, throttle } = this.#ctx;
    const tokenId = parseJoinToken(token)?.id ?? '';
    const source = sourceOf(call.getPeer());
    throttle.check(tokenId, source);
    try {
      const record = await tokens.redeem(token, spiffeId);
      throttle.succeeded(tokenId);
      return record;
    } catch (err) {
      if (err instanceof ControlPlaneError && err.code === 'WEFT_ERR_TOKEN_INVALID') throttle.failed(tokenId, source);
      throw err;
    }
  }

  async #sign(call: grpc.ServerUnaryCall<SignRequest, SignResponse>): Promise<SignResponse> {
    const { mesh, metrics, log, revocations, ledger } = this.#ctx;
    const requested = this.#requestedIdentity(call.request.csrPem ?? '');
    const peer = peerIdentity(call);
    const token = (call.request.token ?? '').trim();
    const proxyId = (call.request.proxyId ?? '').trim().slice(0, 253);
    // Before anything else: a removed proxy gets nothing, whatever else it presents.
    if (revocations.isProxyRemoved(proxyId) || (peer && revocations.isSerialRevoked(peer.serialNumber))) {
      throw new ControlPlaneError(
        'WEFT_ERR_PROXY_REMOVED',
        `${proxyId ? `proxy ${proxyId}` : 'this certificate\'s proxy'} was removed from the mesh (weftctl proxy remove): its certificate is not renewed. Start a new sidecar with a new join token to bring ${requested.spiffeId} back`,
      );
    }
    let via: { via: 'renewal' | 'join-token'; tokenId?: string };
    if (peer && !token) {
      if (peer.namespace === CONTROL_PLANE_NAMESPACE) {
        throw new ControlPlaneError('WEFT_ERR_PERMISSION_DENIED', `${peer.spiffeId} cannot renew workload certificates: renewal is for the workload's own certificate`);
      }
      if (peer.spiffeId !== requested.spiffeId) {
        throw new ControlPlaneError(
          'WEFT_ERR_IDENTITY_MISMATCH',
          `the presented certificate is for ${peer.spiffeId}, but the CSR asks for ${requested.spiffeId}: a renewal keeps the same identity (use a join token for another one)`,
        );
      }
      via = { via: 'renewal' };
    } else if (token) {
      const record = await this.#redeem(call, token, requested.spiffeId);
      via = { via: 'join-token', tokenId: record.id };
    } else {
      const ns = requested.namespace === DEFAULT_NAMESPACE ? '' : ` --namespace ${requested.namespace}`;
      throw new ControlPlaneError(
        'WEFT_ERR_UNAUTHENTICATED',
        `Identity.Sign needs a join token on first contact (create one with \`weftctl token create --service ${requested.service}${ns}\`), or the current certificate to renew`,
      );
    }
    const issued = mesh.ca.issue({ subjectKey: requested.subjectKey, ttlMs: this.#ttlMs(), usage: 'workload', uris: [requested.spiffeId] });
    metrics.certificateIssued(via.via);
    const serial = normalizeSerial(issued.serialNumber);
    await ledger.record({ serial, proxyId, spiffeId: requested.spiffeId, notAfterMs: issued.notAfter.getTime(), tokenId: via.tokenId ?? '' });
    log.info('certificate issued', { spiffeId: requested.spiffeId, ...via, ...(proxyId ? { proxyId } : {}), serialNumber: serial, notAfter: issued.notAfter.toISOString() });
    return {
      certificateChainPem: [...issued.chainPem],
      trustBundlePem: [...mesh.trustBundlePem],
      expiresAtMs: issued.notAfter.getTime(),
      spiffeId: requested.spiffeId,
    };
  }

  #requestedIdentity(csrPem: string): { spiffeId: string; namespace: string; service: string; subjectKey: SubjectKey } {
    if (!csrPem.trim()) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', 'csrPem is required: a PEM PKCS#10 request for one SPIFFE ID');
    const csr = parseCsr(csrPem);
    if (csr.uris.length !== 1 || csr.dnsNames.length > 0 || csr.otherNames > 0) {
      throw new ControlPlaneError(
        'WEFT_ERR_INVALID_ARGUMENT',
        `the CSR must ask for exactly one URI SAN (the SPIFFE ID) and no other names; it asks for ${csr.uris.length} URI, ${csr.dnsNames.length} DNS and ${csr.otherNames} other`,
      );
    }
    const uri = csr.uris[0] as string;
    const id = parseSpiffeId(uri);
    const td = this.#ctx.mesh.trustDomain;
    if (!id) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `the CSR's URI SAN ${uri} is not a SPIFFE ID of the form spiffe://${td}/ns/<namespace>/sa/<service>`);
    if (id.trustDomain !== td) {
      throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `the CSR asks for ${uri}, outside this mesh's trust domain ${td}`);
    }
    if (id.namespace === CONTROL_PLANE_NAMESPACE) {
      throw new ControlPlaneError('WEFT_ERR_PERMISSION_DENIED', `namespace ${CONTROL_PLANE_NAMESPACE} is reserved for the control plane and the operator: ${uri} is never signed`);
    }
    return { spiffeId: uri, namespace: id.namespace, service: id.service, subjectKey: csr.subjectKey };
  }

  #ttlMs(): number {
    const spec = this.#ctx.store.list('MeshConfig')[0]?.spec as MeshConfigSpec | undefined;
    return parseDuration(effectiveMeshConfig(spec, this.#ctx.mesh.trustDomain).certificateTTL) ?? 86_400_000;
  }
}
