import { AppUnavailableError } from '../layers/errors';
import type { H2Connection } from '../http/h2-connection';
import { h2Exchange } from '../http/h2-exchange';
import type { Service } from '../layers/service';
import { appHeaders, type ForwardRequest, type LocalApp } from './local-app';

/**
 * HTTP/2 with prior knowledge (h2c) to an app that speaks it, such as a gRPC server: every
 * request is a stream on one session, so streaming both ways and trailers (`grpc-status`) pass
 * intact, and a trailers-only answer stays one HEADERS frame. An app that cannot be reached is a
 * 502 (a gRPC UNAVAILABLE for gRPC callers).
 */
export function forwardLocalH2(app: LocalApp, connection: H2Connection): Service<ForwardRequest> {
  const where = `${app.host}:${app.port}`;
  return (req) => {
    req.record.phase = 'local app';
    const headers = appHeaders(req);
    // gRPC servers expect `te: trailers` (it says the client reads trailers); it is hop-by-hop, so it was dropped on the way in.
    if (req.grpc) headers['te'] = 'trailers';
    return h2Exchange(
      connection,
      { method: req.method, target: req.target, headers, body: req.body, signal: req.signal },
      (cause) => new AppUnavailableError(where, cause),
      () => undefined,
    );
  };
}
