import { performance } from 'node:perf_hooks';
import { HEADERS } from '@weft/api';
import type { CompiledConfig } from '../config/types';
import type { DownstreamHandler } from '../http/downstream';
import { NotReadyError } from '../layers/errors';
import { accessLogOn, serveExchange, type ExchangeEdge } from '../http/exchange';
import { isGrpc, parseGrpcTimeout } from '../http/grpc';
import { forwardableHeaders } from '../http/headers';
import { type HeaderMap, type Service } from '../layers/service';
import type { TelemetryEvents } from '../telemetry/events';
import { RequestRecord } from '../telemetry/record';
import type { OutboundRequest } from './types';
import { parseRequestTarget } from './request-target';

export interface OutboundAcceptDeps {
  readonly config: { readonly current: CompiledConfig | undefined };
  /** `service.namespace` of this sidecar: the `source` of everything it sends. */
  readonly source: string;
  readonly events: Pick<TelemetryEvents, 'emit'>;
}

/**
 * The edge of the outbound stack: turns an app's request (HTTP/1.1, HTTP/2 or an Upgrade) into an
 * OutboundRequest, reads the config once for the whole request, and writes back whatever the
 * stack answers (a response or a ProxyError) with `x-weft-attempts` when it took more than one
 * try. A gRPC request's `grpc-timeout` becomes its deadline, which the endpoint client sends on
 * as whatever remains of it. When the exchange is over it reports the request, whatever happened.
 */
export function acceptOutbound(deps: OutboundAcceptDeps, next: Service<OutboundRequest>): DownstreamHandler {
  const edge: ExchangeEdge = { events: deps.events, dropMeshHeaders: false, bodyBrokenCode: 'WEFT_ERR_UPSTREAM_RESET', countBodyBytes: accessLogOn(deps.config) };
  return (d, cancel) => {
    const record = new RequestRecord('outbound', d.method);
    record.source = deps.source;
    record.protocol = d.protocol;
    const grpc = isGrpc(d.headers['content-type']);
    serveExchange(d, cancel, record, edge, grpc, attemptsHeader, (signal) => {
      const t = parseRequestTarget(d.url, d.authority);
      record.path = t.path;
      record.authority = t.authority;
      const config = deps.config.current;
      if (!config) throw new NotReadyError('configuration');
      const headers = forwardableHeaders(d.headers, true);
      headers['host'] = t.host;
      const { body, length } = d.takeBody();
      return next({
        method: record.method,
        target: t.target,
        path: t.path,
        authority: t.authority,
        headers,
        body,
        bodyLength: length,
        config,
        signal,
        record,
        protocol: d.protocol,
        grpc,
        deadlineAt: grpc ? takeDeadline(headers) : undefined,
        upgrade: d.upgrade,
        service: undefined, // filled in below: see ONE_SHAPE in ./types
        span: undefined,
        attempt: undefined,
        endpoint: undefined,
      });
    });
  };
}

/** No header to add: shared, since nearly every request takes one try. */
const NO_EXTRA: HeaderMap = Object.freeze({});

function attemptsHeader(record: RequestRecord): HeaderMap {
  return record.attempts > 1 && record.attemptsHeader ? { [HEADERS.attempts]: String(record.attempts) } : NO_EXTRA;
}

/** The app's gRPC deadline, taken out of the headers: the endpoint client sends what remains of it. */
function takeDeadline(headers: HeaderMap): number | undefined {
  const ms = parseGrpcTimeout(headers['grpc-timeout']);
  delete headers['grpc-timeout'];
  return ms === undefined ? undefined : performance.now() + ms;
}
