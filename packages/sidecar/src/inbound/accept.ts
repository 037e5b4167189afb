import { HEADERS } from '@weft/api';
import type { CompiledConfig } from '../config/types';
import { callerProtocolOf } from '../http/caller-protocol';
import type { DownstreamHandler } from '../http/downstream';
import { BadRequestError } from '../layers/errors';
import { accessLogOn, serveExchange, type ExchangeEdge } from '../http/exchange';
import { isGrpc } from '../http/grpc';
import { forwardableHeaders } from '../http/headers';
import { type HeaderMap, type Service } from '../layers/service';
import type { TelemetryEvents } from '../telemetry/events';
import { RequestRecord } from '../telemetry/record';
import type { InboundRequest } from './types';

export interface InboundAcceptDeps {
  readonly config: { readonly current: CompiledConfig | undefined };
  /** `service.namespace` of this sidecar: the `destination` of everything it receives. */
  readonly destination: string;
  readonly events: Pick<TelemetryEvents, 'emit'>;
}

const NO_EXTRA: HeaderMap = Object.freeze({});
const noExtra = (): HeaderMap => NO_EXTRA;

/**
 * The edge of the inbound stack: turns a peer sidecar's request (HTTP/1.1, HTTP/2 or an Upgrade;
 * plaintext too in PERMISSIVE mode) into an InboundRequest, answers with what the stack returns
 * (a response, or a ProxyError), and reports the request when the exchange is over.
 */
export function acceptInbound(deps: InboundAcceptDeps, next: Service<InboundRequest>): DownstreamHandler {
  const edge: ExchangeEdge = { events: deps.events, dropMeshHeaders: true, bodyBrokenCode: 'WEFT_ERR_APP_UNAVAILABLE', countBodyBytes: accessLogOn(deps.config) };
  return (d, cancel) => {
    const record = new RequestRecord('inbound', d.method);
    record.destination = deps.destination;
    record.protocol = d.protocol;
    const grpc = isGrpc(d.headers['content-type']);
    serveExchange(d, cancel, record, edge, grpc, noExtra, (signal) => {
      const url = d.url;
      // Peer sidecars always send origin form; anything else did not come from one.
      if (!url.startsWith('/')) throw new BadRequestError(`unsupported request target "${url.slice(0, 100)}"`);
      const q = url.indexOf('?');
      record.path = q < 0 ? url : url.slice(0, q);
      record.authority = authorityOf(d.authority);
      // Whatever x-weft-* or x-forwarded-client-cert the caller sent goes: only forward-local names the peer.
      const headers = forwardableHeaders(d.headers, true);
      // The authority the calling app addressed, as Host whatever carried it (HTTP/2 has it in
      // :authority): forward-local sends it on as Host or :authority, whatever the app speaks.
      if (d.authority !== undefined) headers['host'] = d.authority;
      return next({
        method: record.method,
        target: url,
        path: record.path,
        headers,
        body: d.takeBody().body,
        config: deps.config.current,
        signal,
        record,
        socket: d.tls,
        protocol: d.protocol,
        callerProtocol: callerProtocolOf(d.protocol, d.tls !== null, d.headers[HEADERS.callerProtocol]),
        grpc,
        upgrade: d.upgrade,
        peer: undefined, // filled in below: see InboundRequest
        span: undefined,
      });
    });
  };
}

/** Lower-case host without a port, for the record (no regex per request). */
function authorityOf(raw: string | undefined): string {
  if (raw === undefined) return '';
  const colon = raw.lastIndexOf(':');
  const host = colon >= 0 && colon < raw.length - 1 && colon > raw.lastIndexOf(']') && isDigits(raw, colon + 1) ? raw.slice(0, colon) : raw;
  return host.toLowerCase();
}

function isDigits(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
