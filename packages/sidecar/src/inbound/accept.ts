import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { CompiledConfig } from '../config/types';
import { asProxyError, BadRequestError, ClientClosedError } from '../layers/errors';
import { declaredBodyLength, forwardableHeaders, type Service } from '../layers/http';
import { answer, guardBody } from '../layers/respond';
import type { TelemetryEvents } from '../telemetry/events';
import { RequestRecord } from '../telemetry/record';
import type { InboundRequest } from './types';

export interface InboundAcceptDeps {
  readonly config: { readonly current: CompiledConfig | undefined };
  /** `service.namespace` of this sidecar: the `destination` of everything it receives. */
  readonly destination: string;
  readonly events: Pick<TelemetryEvents, 'emit'>;
}

/**
 * The edge of the inbound stack: turns a peer sidecar's request into an InboundRequest, answers
 * with what the stack returns (a response, or a ProxyError), and reports the request when done.
 */
export function acceptInbound(deps: InboundAcceptDeps, next: Service<InboundRequest>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const record = new RequestRecord('inbound', req.method ?? '');
    record.destination = deps.destination;
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) {
        controller.abort(new ClientClosedError());
        if (record.status === 0) record.status = 499;
      }
      deps.events.emit('weft:request-end', { record, durationMs: record.elapsedMs() });
    });

    let result: ReturnType<Service<InboundRequest>>;
    try {
      const url = req.url ?? '';
      // Peer sidecars always send origin form; anything else did not come from one.
      if (!url.startsWith('/')) throw new BadRequestError(`unsupported request target "${url.slice(0, 100)}"`);
      const q = url.indexOf('?');
      record.path = q < 0 ? url : url.slice(0, q);
      record.authority = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
      const declared = declaredBodyLength(req.headers);
      result = next({
        method: record.method,
        target: url,
        path: record.path,
        headers: forwardableHeaders(req.headers, true),
        body: declared.hasBody ? guardBody(req) : null,
        config: deps.config.current,
        signal: controller.signal,
        record,
        // The inbound server is an https server: every socket is a TLSSocket.
        socket: req.socket as TLSSocket,
      });
    } catch (err) {
      result = Promise.reject(err as Error);
    }

    result.then(
      (response) => {
        record.status = response.status;
        answer(req, res, { response }, true, {}, () => {
          // The body broke off after the headers went out: say which side broke it.
          if (!record.errorCode) record.errorCode = controller.signal.aborted ? 'WEFT_ERR_CLIENT_CLOSED' : 'WEFT_ERR_APP_UNAVAILABLE';
        });
      },
      (err: unknown) => {
        const error = asProxyError(err);
        record.errorCode = error.code;
        if (record.status === 0) record.status = error.httpStatus;
        answer(req, res, { error }, true, {}, () => undefined);
      },
    );
  };
}
