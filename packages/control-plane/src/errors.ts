import { WeftError } from '@weft/api';

/**
 * Stable codes for everything the control plane refuses. Callers (and tests) branch on these;
 * `grpc/status.ts` maps each one to a gRPC status in one table.
 */
export type ControlPlaneErrorCode =
  | 'WEFT_ERR_UNAUTHENTICATED'
  | 'WEFT_ERR_PERMISSION_DENIED'
  | 'WEFT_ERR_INVALID_ARGUMENT'
  | 'WEFT_ERR_NOT_FOUND'
  | 'WEFT_ERR_TOKEN_INVALID'
  | 'WEFT_ERR_TOKEN_EXPIRED'
  | 'WEFT_ERR_TOKEN_EXHAUSTED'
  | 'WEFT_ERR_IDENTITY_MISMATCH'
  | 'WEFT_ERR_TRUST_DOMAIN_FIXED'
  | 'WEFT_ERR_DATA_DIR'
  | 'WEFT_ERR_DATA_DIR_LOCKED'
  | 'WEFT_ERR_BAD_FLAG'
  | 'WEFT_ERR_CLOSED'
  /** A join token the operator revoked (`weftctl token revoke`). */
  | 'WEFT_ERR_TOKEN_REVOKED'
  /** A proxy the operator removed (`weftctl proxy remove`), or a certificate it held. */
  | 'WEFT_ERR_PROXY_REMOVED'
  /** `weftctl ca rotate-root` while a rotation is still in progress. */
  | 'WEFT_ERR_ROTATION_IN_PROGRESS'
  /** CA files brought with --ca-cert/--ca-key/--ca-chain/--root-cert that cannot be used. */
  | 'WEFT_ERR_BAD_CA'
  /** A token id or source address locked out after repeated wrong join token secrets. */
  | 'WEFT_ERR_TOO_MANY_FAILURES'
  /** The shared store (etcd) cannot be reached: this replica serves what it has and refuses writes. */
  | 'WEFT_ERR_STORE_UNAVAILABLE'
  /** A write lost a race with another replica's write to the same keys more times than it retries. */
  | 'WEFT_ERR_CONFLICT'
  /** A step that only the elected leader among replicas may take, tried by another replica. */
  | 'WEFT_ERR_NOT_LEADER';

export class ControlPlaneError extends WeftError {
  declare readonly code: ControlPlaneErrorCode;
  /** When retrying can succeed, after how long (sent as `retry-after-ms` in the trailers). */
  readonly retryAfterMs: number | undefined;

  constructor(code: ControlPlaneErrorCode, message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(code, message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}
