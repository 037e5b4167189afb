import * as grpc from '@grpc/grpc-js';
import { WeftError, type Logger } from '@weft/api';
import { ControlPlaneError } from '../errors';

/** One table from stable error codes to gRPC statuses; anything else is INTERNAL. */
const STATUS_BY_CODE: Readonly<Record<string, grpc.status>> = Object.freeze({
  WEFT_ERR_UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  WEFT_ERR_TOKEN_INVALID: grpc.status.UNAUTHENTICATED,
  WEFT_ERR_TOKEN_EXPIRED: grpc.status.UNAUTHENTICATED,
  WEFT_ERR_TOKEN_REVOKED: grpc.status.UNAUTHENTICATED,
  WEFT_ERR_PROXY_REMOVED: grpc.status.PERMISSION_DENIED,
  WEFT_ERR_ROTATION_IN_PROGRESS: grpc.status.FAILED_PRECONDITION,
  // Over-used tokens are PERMISSION_DENIED, not RESOURCE_EXHAUSTED: clients treat the latter as
  // retryable, and retrying can never succeed with the same token.
  WEFT_ERR_TOKEN_EXHAUSTED: grpc.status.PERMISSION_DENIED,
  WEFT_ERR_IDENTITY_MISMATCH: grpc.status.PERMISSION_DENIED,
  WEFT_ERR_PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  WEFT_ERR_INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  WEFT_ERR_INVALID_RESOURCE: grpc.status.INVALID_ARGUMENT,
  WEFT_ERR_TRUST_DOMAIN_FIXED: grpc.status.INVALID_ARGUMENT,
  WEFT_ERR_BAD_CSR: grpc.status.INVALID_ARGUMENT,
  WEFT_ERR_BAD_KEY: grpc.status.INVALID_ARGUMENT,
  WEFT_ERR_UNSUPPORTED_KEY: grpc.status.INVALID_ARGUMENT,
  WEFT_ERR_NOT_FOUND: grpc.status.NOT_FOUND,
  WEFT_ERR_CLOSED: grpc.status.UNAVAILABLE,
  // A lockout ends, so retrying later can succeed: RESOURCE_EXHAUSTED, with retry-after-ms.
  WEFT_ERR_TOO_MANY_FAILURES: grpc.status.RESOURCE_EXHAUSTED,
  // etcd out of reach: another replica may take the write (weftctl's next attempt, or the operator's).
  WEFT_ERR_STORE_UNAVAILABLE: grpc.status.UNAVAILABLE,
  WEFT_ERR_CONFLICT: grpc.status.ABORTED,
  WEFT_ERR_NOT_LEADER: grpc.status.FAILED_PRECONDITION,
});

/**
 * Turns a thrown error into what a gRPC handler reports. Known errors keep their message (written
 * for the operator); unknown ones are logged here and reported without detail, because their
 * messages were not written for the caller and may say more than the caller should see.
 */
export function toStatus(err: unknown, log: Logger, method: string): Partial<grpc.StatusObject> {
  if (err instanceof WeftError) {
    const code = STATUS_BY_CODE[err.code];
    if (code !== undefined) return { code, details: err.message, metadata: codeMetadata(err.code, err instanceof ControlPlaneError ? err.retryAfterMs : undefined) };
  }
  log.error('request failed', { method, error: err instanceof Error ? err : String(err) });
  return { code: grpc.status.INTERNAL, details: `internal error in ${method} (see the control plane log)` };
}

/** The stable code travels in trailers too, so that weftctl can branch on it. */
function codeMetadata(code: string, retryAfterMs: number | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('weft-error-code', code);
  if (retryAfterMs !== undefined) md.set('retry-after-ms', String(Math.ceil(retryAfterMs)));
  return md;
}

/** What a server stream (duplex or server-streaming call) needs to end with a status. */
export interface StatusEmitter {
  emit(event: 'error', status: Partial<grpc.StatusObject>): boolean;
}

/**
 * Ends a server stream with `err`: the one way a stream is refused or ended early, so that each
 * ending carries the status and `weft-error-code` trailer of `toStatus`. Returns that status.
 */
export function endStream(call: StatusEmitter, err: unknown, log: Logger, method: string): Partial<grpc.StatusObject> {
  const status = toStatus(err, log, method);
  call.emit('error', status);
  return status;
}

/** Wraps an async unary implementation so that every failure becomes a proper status. */
export function unary<Req, Res>(
  method: string,
  log: Logger,
  impl: (call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    impl(call).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toStatus(err, log, method), null),
    );
  };
}
