import { performance } from 'node:perf_hooks';
import type { Destination } from '../../config/types';
import { ConnectError, ProxyError, UpstreamResetError } from '../../layers/errors';
import { formatGrpcTimeout } from '../../http/grpc';
import { h2Exchange } from '../../http/h2-exchange';
import type { HeaderMap, Service } from '../../layers/service';
import type { EndpointRequest } from './client';
import type { H2SessionSource } from './h2-sessions';

/** What the HTTP/2 client reads from a request besides the endpoint client's slice. */
export interface H2EndpointRequest extends EndpointRequest {
  readonly grpc: boolean;
  /** The request's one deadline (`performance.now()` ms), when it has one. */
  readonly deadlineAt: number | undefined;
}

/**
 * Sends a request as a stream on the endpoint's one multiplexed HTTP/2 session. For gRPC it
 * sends `te: trailers` and what remains of the request's deadline as `grpc-timeout`, so the
 * server stops working on a call nobody waits for any more. Failures are classified as the
 * HTTP/1.1 client does: before the peer saw the request (no session, a refused stream) is a
 * connect failure; after, a reset; a peer identity refusal stays what it is.
 */
export function h2Client(destination: Destination, sessions: H2SessionSource): Service<H2EndpointRequest> {
  return (req) => {
    if (req.signal.aborted) return Promise.reject(req.signal.reason as Error);
    const endpoint = req.endpoint.address;
    let session;
    try {
      session = sessions.session(endpoint, destination);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    req.record.phase = 'connect';
    return h2Exchange(
      session,
      { method: req.method, target: req.target, headers: req.grpc ? grpcHeaders(req) : req.headers, body: req.body, signal: req.signal },
      (cause, processed) => {
        if (cause instanceof ProxyError) return cause;
        return processed ? new UpstreamResetError(destination.key, endpoint, cause) : new ConnectError(destination.key, endpoint, cause);
      },
      () => (req.record.phase = 'response headers'),
    );
  };
}

/** Set in the request's own header map (accept built it; every attempt sets the same names again) rather than a copy. */
function grpcHeaders(req: H2EndpointRequest): HeaderMap {
  const headers = req.headers;
  headers['te'] = 'trailers';
  if (req.deadlineAt !== undefined) headers['grpc-timeout'] = formatGrpcTimeout(req.deadlineAt - performance.now());
  return headers;
}
