import { HEADERS, WeftError } from '@weft/api';

/**
 * Errors of the data path. Each has a stable code (sent to the app in `x-weft-error`, and what
 * layers branch on), the HTTP status the app receives, and a message that says what to do next.
 */
export abstract class ProxyError extends WeftError {
  abstract readonly httpStatus: number;

  /** Headers the answer carries besides `x-weft-error` (a 429's `retry-after`). */
  get responseHeaders(): Readonly<Record<string, string>> {
    return {};
  }
}

/** The request cannot be proxied as sent (no authority, a bad request target, CONNECT). */
export class BadRequestError extends ProxyError {
  readonly httpStatus: number;
  constructor(message: string, httpStatus = 400) {
    super('WEFT_ERR_BAD_REQUEST', message);
    this.httpStatus = httpStatus;
  }
}

/** The sidecar has no config or no certificate yet. */
export class NotReadyError extends ProxyError {
  readonly httpStatus = 503;
  constructor(missing: 'configuration' | 'certificate') {
    super('WEFT_ERR_NOT_READY', `the sidecar has no ${missing} from the control plane yet: retry shortly, or check the sidecar's log`);
  }
}

/** Nothing to send the request to: an unknown service, or a subset without ready endpoints. */
export class NoEndpointsError extends ProxyError {
  readonly httpStatus = 503;
  static unknownService(asked: string): NoEndpointsError {
    return new NoEndpointsError(
      `service "${asked}" has no endpoints in the mesh: check that it runs a Weft sidecar and is spelled as registered (weftctl get services); ` +
        `a service whose ALLOW AuthorizationPolicies do not name this caller is not sent to it (weftctl auth check --to ${asked})`,
    );
  }
  static noneReady(destination: string, subset: string | undefined): NoEndpointsError {
    const what = subset === undefined ? `service "${destination}"` : `subset "${subset}" of service "${destination}"`;
    const hint = subset === undefined ? '' : ` and that the labels of subset "${subset}" in its ServicePolicy match running instances`;
    return new NoEndpointsError(`${what} has no ready endpoints: check that its instances run and are ready${hint} (weftctl get services)`);
  }
  private constructor(message: string) {
    super('WEFT_ERR_NO_ENDPOINTS', message);
  }
}

export class NoRouteError extends ProxyError {
  readonly httpStatus = 404;
  constructor(destination: string, routes: readonly string[], method: string, path: string) {
    super(
      'WEFT_ERR_NO_ROUTE',
      `no rule of Route ${routes.map((r) => `"${r}"`).join(', ')} for service "${destination}" matches ${method} ${path}: ` +
        'add a rule that matches this request, or a last rule without match (weftctl get routes)',
    );
  }
}

/** The route's overall timeout passed before response headers arrived. */
export class UpstreamTimeoutError extends ProxyError {
  readonly httpStatus = 504;
  constructor(destination: string, route: string, timeoutMs: number, phase: string) {
    super(
      'WEFT_ERR_UPSTREAM_TIMEOUT',
      `"${destination}" did not answer within ${timeoutMs}ms (timeout of route ${route}); the time ran out during ${phase}: ` +
        'raise the route timeout or find out why the service is slow',
    );
  }
}

/** The caller's own deadline (gRPC `grpc-timeout`) passed before response headers arrived. */
export class DeadlineExceededError extends ProxyError {
  readonly httpStatus = 504;
  constructor(destination: string, deadlineMs: number, phase: string) {
    super(
      'WEFT_ERR_DEADLINE_EXCEEDED',
      `"${destination}" did not answer within the caller's deadline of ${Math.round(deadlineMs)}ms (grpc-timeout); the time ran out during ${phase}: ` +
        'give the call a longer deadline or find out why the service is slow',
    );
  }
}

/** One attempt passed its per-try timeout; the retry layer may try again. */
export class AttemptTimeoutError extends ProxyError {
  readonly httpStatus = 504;
  constructor(destination: string, attempt: number, timeoutMs: number, phase: string) {
    super(
      'WEFT_ERR_ATTEMPT_TIMEOUT',
      `attempt ${attempt} to "${destination}" got no response within ${timeoutMs}ms (perTryTimeout); it was in ${phase}`,
    );
  }
}

/** No connection could be made to the endpoint (refused, unreachable, TLS failure). */
export class ConnectError extends ProxyError {
  readonly httpStatus = 503;
  constructor(destination: string, endpoint: string, cause: unknown) {
    super('WEFT_ERR_CONNECT', `cannot connect to "${destination}" at ${endpoint}: ${describeCause(cause)}: check that its sidecar runs and is reachable`, {
      cause,
    });
  }
}

/** The peer completed TLS with a certificate for another identity. */
export class PeerIdentityError extends ProxyError {
  readonly httpStatus = 503;
  constructor(expected: string, presented: readonly string[], endpoint: string) {
    const got = presented.length === 0 ? 'no SPIFFE ID' : presented.join(', ');
    super(
      'WEFT_ERR_PEER_IDENTITY',
      `the sidecar at ${endpoint} presented ${got}, not ${expected}: the connection was refused; the endpoint list may be stale or another workload listens there`,
    );
  }
}

/** The connection failed after the request was sent and before response headers. */
export class UpstreamResetError extends ProxyError {
  readonly httpStatus = 502;
  constructor(destination: string, endpoint: string, cause: unknown) {
    super('WEFT_ERR_UPSTREAM_RESET', `"${destination}" at ${endpoint} closed the connection before responding: ${describeCause(cause)}`, { cause });
  }
}

/**
 * Socket errors that can only happen before a connection exists: the request surely reached
 * nobody. A reset or a hang-up may come after the app read the request, so they are not here.
 */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOENT']);

/** The app behind an inbound listener cannot be reached. */
export class AppUnavailableError extends ProxyError {
  readonly httpStatus = 502;
  /** True when no connection to the app was made, so the request was certainly not processed. */
  readonly unprocessed: boolean;
  constructor(app: string, cause: unknown) {
    super(
      'WEFT_ERR_APP_UNAVAILABLE',
      `the local app at ${app} did not answer: ${describeCause(cause)}: check that it runs and listens on the port given to the sidecar (--app-port)`,
      { cause },
    );
    const code = (cause as { code?: unknown } | undefined)?.code;
    this.unprocessed = typeof code === 'string' && NOT_CONNECTED.has(code);
  }

  /** Tells the caller's sidecar that it may send the request elsewhere (see retry-classify). */
  override get responseHeaders(): Readonly<Record<string, string>> {
    return this.unprocessed ? UNPROCESSED_APP_UNREACHABLE : {};
  }
}

const UNPROCESSED_APP_UNREACHABLE: Readonly<Record<string, string>> = Object.freeze({ [HEADERS.unprocessed]: 'app-unreachable' });

/** An inbound peer's certificate carries no SPIFFE ID. */
export class NoPeerIdentityError extends ProxyError {
  readonly httpStatus = 403;
  constructor() {
    super('WEFT_ERR_NO_PEER_IDENTITY', 'the client certificate carries no SPIFFE ID (URI SAN): only mesh workloads may call here');
  }
}

/**
 * The client stopped sending its request body: no byte of it arrived for the listener's body idle
 * timeout while the sidecar was ready to read (a body trickled to hold a connection, or a client
 * that hung). Answered 408 when no response has started.
 */
export class RequestBodyTimeoutError extends ProxyError {
  readonly httpStatus = 408;
  constructor(idleMs: number) {
    super(
      'WEFT_ERR_BODY_TIMEOUT',
      `no byte of the request body arrived for ${idleMs / 1000}s: send the body without pauses that long (the sidecar's --body-idle-timeout)`,
    );
  }
}

/** The app closed its connection before the response; nothing is written back. */
export class ClientClosedError extends ProxyError {
  readonly httpStatus = 499;
  constructor() {
    super('WEFT_ERR_CLIENT_CLOSED', 'the client closed the connection before the response');
  }
}

/** A bug: a layer failed in a way it does not classify. */
export class InternalError extends ProxyError {
  readonly httpStatus = 500;
  constructor(cause: unknown) {
    super('WEFT_ERR_INTERNAL', `the sidecar failed to handle the request: ${describeCause(cause)}`, { cause });
  }
}

/** Any thrown value as a ProxyError, so that the edge of a stack has one thing to render. */
export function asProxyError(err: unknown): ProxyError {
  return err instanceof ProxyError ? err : new InternalError(err);
}

/** An error's code and message in one short line (never a stack: it may end up in a response). */
export function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code) ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}
