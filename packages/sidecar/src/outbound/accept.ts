import type { IncomingMessage, ServerResponse } from 'node:http';
import { HEADERS } from '@weft/api';
import type { CompiledConfig } from '../config/types';
import { asProxyError, ClientClosedError, NotReadyError } from '../layers/errors';
import { declaredBodyLength, forwardableHeaders, type HeaderMap, type Service } from '../layers/http';
import { answer, guardBody } from '../layers/respond';
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
 * The edge of the outbound stack: turns an app's HTTP request into an OutboundRequest, reads the
 * config once for the whole request, and writes back whatever the stack answers (a response or a
 * ProxyError) with `x-weft-attempts` when it took more than one try. When the response is done
 * it reports the request (`weft:request-end`), whatever happened to it.
 */
export function acceptOutbound(deps: OutboundAcceptDeps, next: Service<OutboundRequest>): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const record = new RequestRecord('outbound', req.method ?? '');
    record.source = deps.source;
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) {
        controller.abort(new ClientClosedError());
        if (record.status === 0) record.status = 499; // nginx's code for "client closed request"
      }
      deps.events.emit('weft:request-end', { record, durationMs: record.elapsedMs() });
    });

    let result: ReturnType<Service<OutboundRequest>>;
    try {
      const t = parseRequestTarget(req.url, req.headers.host);
      record.path = t.path;
      record.authority = t.authority;
      const config = deps.config.current;
      if (!config) throw new NotReadyError('configuration');
      const headers = forwardableHeaders(req.headers, true);
      headers['host'] = t.host;
      const declared = declaredBodyLength(req.headers);
      result = next({
        method: record.method,
        target: t.target,
        path: t.path,
        authority: t.authority,
        headers,
        body: declared.hasBody ? guardBody(req) : null,
        bodyLength: declared.length,
        config,
        signal: controller.signal,
        record,
      });
    } catch (err) {
      result = Promise.reject(err as Error);
    }

    result.then(
      (response) => {
        record.status = response.status;
        answer(req, res, { response }, false, attemptsHeader(record), () => {
          // The body broke off after the headers went out: say which side broke it.
          if (!record.errorCode) record.errorCode = controller.signal.aborted ? 'WEFT_ERR_CLIENT_CLOSED' : 'WEFT_ERR_UPSTREAM_RESET';
        });
      },
      (err: unknown) => {
        const error = asProxyError(err);
        record.errorCode = error.code;
        if (record.status === 0) record.status = error.httpStatus;
        answer(req, res, { error }, false, attemptsHeader(record), () => undefined);
      },
    );
  };
}

function attemptsHeader(record: RequestRecord): HeaderMap {
  return record.attempts > 1 ? { [HEADERS.attempts]: String(record.attempts) } : {};
}
