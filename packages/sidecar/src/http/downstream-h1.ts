import type { IncomingMessage, ServerResponse } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { Downstream, Outcome, RespondOptions } from './downstream';
import { ClientClosedError } from '../layers/errors';
import { grpcErrorHeaders } from './grpc';
import { declaredBodyLength } from './headers';
import { discardBody } from '../layers/service';
import { answer, guardBody, sendResponse } from './respond';

/** An HTTP/1.1 request and its response object, as a Downstream. */
export function http1Downstream(req: IncomingMessage, res: ServerResponse): Downstream {
  const socket = req.socket;
  return {
    protocol: 'http1',
    method: req.method ?? '',
    url: req.url ?? '',
    authority: req.headers.host,
    headers: req.headers,
    tls: socket instanceof TLSSocket ? socket : null,
    upgrade: undefined,
    takeBody: () => {
      const declared = declaredBodyLength(req.headers);
      return { body: declared.hasBody ? guardBody(req) : null, length: declared.length };
    },
    respond: (outcome, options, done) => respondHttp1(req, res, outcome, options, done),
    onClose: (listener) => res.once('close', () => listener(res.writableFinished)),
  };
}

function respondHttp1(req: IncomingMessage, res: ServerResponse, outcome: Outcome, options: RespondOptions, done: (err: Error | undefined) => void): void {
  if ('response' in outcome) {
    try {
      sendResponse(res, outcome.response, options.dropMeshHeaders, options.extra, done);
    } catch (err) {
      // A header Node refuses to write: cut the connection rather than crash.
      discardBody(outcome.response.body);
      res.destroy(err as Error);
      done(err as Error);
    }
    return;
  }
  const err = outcome.error;
  if (!options.grpc || err instanceof ClientClosedError || res.headersSent) {
    answer(req, res, outcome, options.dropMeshHeaders, options.extra, () => undefined);
  } else {
    // gRPC over HTTP/1.1 is rare (gRPC requires HTTP/2), but the answer should read the same.
    try {
      res.writeHead(200, { ...options.extra, ...err.responseHeaders, ...grpcErrorHeaders(err), 'content-length': '0' });
      res.end();
    } catch (e) {
      res.destroy(e as Error);
    }
  }
  done(undefined);
}
