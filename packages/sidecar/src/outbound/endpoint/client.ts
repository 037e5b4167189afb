import type { Readable } from 'node:stream';
import type { CompiledEndpoint, Destination } from '../../config/types';
import { BadRequestError, ConnectError, ProxyError, UpstreamResetError } from '../../layers/errors';
import type { HeaderMap, Service } from '../../layers/service';
import { dispatchProxied, type ClassifyFailure, type HopPhases, type HttpDispatcher } from '../../http/dispatch-response';
import type { Phase } from '../../telemetry/record';
import type { CancelSignal } from '../../layers/cancel';

/** What the endpoint client reads from a request. */
export interface EndpointRequest {
  readonly method: string;
  readonly target: string;
  readonly headers: HeaderMap;
  readonly body: Readable | Buffer | null;
  readonly signal: CancelSignal;
  readonly record: { phase: Phase };
  readonly endpoint: CompiledEndpoint;
}

/** Where connections come from: the pooled mTLS dispatchers (EndpointPools in production). */
export interface EndpointDispatchers {
  /** Only `dispatch`: Weft's H1Pool, or any undici dispatcher (tests). */
  get(endpoint: string, destination: Destination): HttpDispatcher;
}

/**
 * Sends a request to one endpoint over its pooled connection and resolves once the response
 * headers are in; the body streams on with back-pressure (the connection is paused while the app reads
 * slowly). Failures are classified by when they happen: before the request was written to a
 * connection it is a connect failure, after it a reset.
 */
export function endpointClient(destination: Destination, dispatchers: EndpointDispatchers): Service<EndpointRequest> {
  const classify = classifyFailure(destination.key);
  const pick = (req: EndpointRequest): HttpDispatcher => dispatchers.get(req.endpoint.address, destination);
  return (req) => dispatchProxied(req, req.headers, pick, classify, PEER_HOP);
}

const PEER_HOP: HopPhases = { waiting: 'connect', sent: 'response headers' };

/** A peer identity refusal as is; a request that cannot be written (a header, a length) as a 400; else connect failure or reset. */
function classifyFailure(destination: string): ClassifyFailure<EndpointRequest> {
  return (err, sent, req) => {
    if (err instanceof ProxyError) return err;
    const code = (err as { code?: unknown }).code;
    if (code === 'WEFT_INVALID_HEADER' || code === 'WEFT_BODY_LENGTH_MISMATCH' || code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
      return new BadRequestError(`the request cannot be forwarded: ${err.message}`);
    }
    const endpoint = req.endpoint.address;
    return sent ? new UpstreamResetError(destination, endpoint, err) : new ConnectError(destination, endpoint, err);
  };
}
