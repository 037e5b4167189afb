import { HEADERS, type RetryOn } from '@weft/api';
import type { ProxyError } from './errors';
import type { ProxyResponse } from './service';

/** What one attempt came to: a response (any status) or the error it failed with. */
export type Outcome = { readonly response: ProxyResponse } | { readonly error: ProxyError };

/** Upstream failures that may be retried; anything else (no endpoints, overall timeout, overflow) is final. */
const CONNECT_FAILURES = new Set(['WEFT_ERR_CONNECT', 'WEFT_ERR_PEER_IDENTITY']);
const RESETS = new Set(['WEFT_ERR_UPSTREAM_RESET']);
const ATTEMPT_TIMEOUTS = new Set(['WEFT_ERR_ATTEMPT_TIMEOUT']);

/** The gRPC status codes `retryOn` can name (as Envoy's `retry_on` does), by `grpc-status` value. */
const GRPC_RETRY_ON: ReadonlyMap<string, RetryOn> = new Map([
  ['1', 'cancelled'],
  ['4', 'deadline-exceeded'],
  ['8', 'resource-exhausted'],
  ['13', 'internal'],
  ['14', 'unavailable'],
]);

/** Methods RFC 9110 9.2.2 calls idempotent: sending them twice does what sending them once does. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);

/**
 * Whether a request may be retried whatever the route says about non-idempotent methods: an
 * idempotent method, or a gRPC call. gRPC calls are all POST; as in gRPC's own retry policy, the
 * status codes named in `retryOn` are the route's statement that its calls may be retried.
 */
export function isRetryableMethod(method: string, contentType: string | string[] | undefined): boolean {
  return IDEMPOTENT.has(method) || (typeof contentType === 'string' && contentType.startsWith('application/grpc'));
}

/**
 * Whether the request surely never reached the upstream app: no connection was made (refused,
 * timed out, TLS failed, closed before the request was written), the peer proved to be another
 * workload before a byte was sent, or the peer sidecar answered that it could not connect to its
 * app (`x-weft-unprocessed`, which only a sidecar can set: the inbound side strips it from what
 * apps send). Such a failure may be retried whatever the method: nothing happened that could
 * happen twice.
 */
export function neverSent(outcome: Outcome): boolean {
  return 'error' in outcome ? CONNECT_FAILURES.has(outcome.error.code) : unprocessed(outcome.response);
}

/** The peer sidecar's word that no app saw the request (see AppUnavailableError). */
export function unprocessed(response: ProxyResponse): boolean {
  return response.headers[HEADERS.unprocessed] !== undefined;
}

/**
 * Why an outcome may be retried under `retryOn`, or undefined. An upstream failure counts as the
 * status the app would get for it (connect failure 503, reset 502, attempt timeout 504), so that
 * `5xx` and `gateway-error` cover them as in Envoy; `connect-failure` and `reset` name them alone.
 * A gRPC error answered in headers alone (trailers-only) carries `grpc-status` in the response
 * headers; the gRPC names read that. A peer sidecar's answer that its app was unreachable counts
 * as a connect failure (reason `app-unreachable`): the connection that failed was the last hop's.
 */
export function retryReason(outcome: Outcome, retryOn: ReadonlySet<RetryOn>): string | undefined {
  return 'response' in outcome ? responseRetryReason(outcome.response, retryOn) : errorRetryReason(outcome.error, retryOn);
}

/** retryReason of a response (any status). */
export function responseRetryReason(response: ProxyResponse, retryOn: ReadonlySet<RetryOn>): string | undefined {
  if (retryOn.has('connect-failure') && unprocessed(response)) return 'app-unreachable';
  return grpcReason(response, retryOn) ?? statusReason(response.status, retryOn);
}

function errorRetryReason(error: ProxyError, retryOn: ReadonlySet<RetryOn>): string | undefined {
  const code = error.code;
  if (CONNECT_FAILURES.has(code) && retryOn.has('connect-failure')) return 'connect-failure';
  if (RESETS.has(code) && retryOn.has('reset')) return 'reset';
  if (CONNECT_FAILURES.has(code) || RESETS.has(code) || ATTEMPT_TIMEOUTS.has(code)) return statusReason(error.httpStatus, retryOn);
  return undefined;
}

function grpcReason(response: ProxyResponse, retryOn: ReadonlySet<RetryOn>): string | undefined {
  const status = response.headers['grpc-status'];
  if (typeof status !== 'string') return undefined;
  const name = GRPC_RETRY_ON.get(status.trim());
  return name !== undefined && retryOn.has(name) ? `grpc ${name}` : undefined;
}

function statusReason(status: number, retryOn: ReadonlySet<RetryOn>): string | undefined {
  if (status === 502 || status === 503 || status === 504) {
    if (retryOn.has('gateway-error') || retryOn.has('5xx')) return `status ${status}`;
  } else if (status >= 500 && status <= 599 && retryOn.has('5xx')) return `status ${status}`;
  return undefined;
}
