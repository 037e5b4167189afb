import { WeftError } from '@weft/api';

/**
 * Stable codes for what can go wrong between the sidecar and the control plane. Callers branch on
 * `code` (main.ts decides between "exit 1" and "keep retrying" with `isTransient`).
 */
export type ControlErrorCode =
  /** The join token is malformed. Fatal: a new token is needed. */
  | 'WEFT_ERR_BAD_TOKEN'
  /** The control plane's root does not match the token's fingerprint, or its certificate is not the control plane's. Fatal. */
  | 'WEFT_ERR_CONTROL_PLANE_MISMATCH'
  /** The control plane cannot be reached (refused, timed out, UNAVAILABLE). Transient. */
  | 'WEFT_ERR_CONTROL_PLANE_UNAVAILABLE'
  /** The control plane refused to sign (bad or expired token, identity mismatch, bad CSR). Fatal at boot. */
  | 'WEFT_ERR_SIGN_REFUSED'
  /** The control plane answered with a certificate we cannot use. */
  | 'WEFT_ERR_BAD_ISSUED_CERTIFICATE'
  /** A `host:port` could not be parsed. */
  | 'WEFT_ERR_BAD_ADDRESS'
  /** Start-up was cancelled (SIGTERM while still bootstrapping). */
  | 'WEFT_ERR_ABORTED';

export class ControlError extends WeftError {
  declare readonly code: ControlErrorCode;
  /** The gRPC status name (`UNAUTHENTICATED`, ...) when the error came from a call. */
  readonly grpcStatus: string | undefined;
  /** The control plane's own stable code, from the `weft-error-code` trailer, when it sent one. */
  readonly serverCode: string | undefined;

  constructor(
    code: ControlErrorCode,
    message: string,
    options: { cause?: unknown; grpcStatus?: string; serverCode?: string } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.grpcStatus = options.grpcStatus;
    this.serverCode = options.serverCode;
  }
}

/** True when retrying the same operation later may succeed. */
export function isTransient(err: unknown): boolean {
  return err instanceof ControlError && err.code === 'WEFT_ERR_CONTROL_PLANE_UNAVAILABLE';
}

/** A failure as /config and the logs show it: message and codes, never a stack or a cause. */
export interface ErrorInfo {
  readonly message: string;
  readonly code?: string;
  readonly atMs: number;
}

export function errorInfo(err: unknown, atMs = Date.now()): ErrorInfo {
  if (err instanceof ControlError) {
    const code = err.serverCode ?? err.grpcStatus ?? err.code;
    return { message: err.message, code, atMs };
  }
  if (err instanceof WeftError) return { message: err.message, code: err.code, atMs };
  return { message: err instanceof Error ? err.message : String(err), atMs };
}
