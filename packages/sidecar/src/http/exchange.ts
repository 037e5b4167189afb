import type { TelemetryEvents } from '../telemetry/events';
import type { RequestRecord } from '../telemetry/record';
import type { Downstream } from './downstream';
import { asProxyError, ClientClosedError } from '../layers/errors';
import { grpcStatusIn, grpcStatusOf } from './grpc';
import type { HeaderMap, ProxyResponse } from '../layers/service';
import type { Cancel, CancelSignal } from '../layers/cancel';
import type { Readable } from 'node:stream';

/** How one edge (outbound or inbound accept) answers. */
export interface ExchangeEdge {
  readonly events: Pick<TelemetryEvents, 'emit'>;
  /** Drop `x-weft-*` from responses (inbound: an app's own never pass). */
  readonly dropMeshHeaders: boolean;
  /** The code recorded when a response body breaks off and the client did not cause it. */
  readonly bodyBrokenCode: string;
  /** Whether bodies of unannounced length are counted for the record (the access log is on). */
  countBodyBytes(): boolean;
}

/** `countBodyBytes` of an edge: the access log, the one reader of the count, is on in the config in force. */
export function accessLogOn(config: { readonly current: { readonly mesh: { readonly accessLog: boolean } } | undefined }): () => boolean {
  return () => config.current?.mesh.accessLog === true;
}

/**
 * What both edges share. `run` builds the request and calls the stack (it may throw); whatever it
 * produces is written back, a ProxyError as the sidecar's own answer (a gRPC status for gRPC
 * requests), and the record gets the status the client saw. A client that leaves aborts the
 * stack (499), and so does the listener through `controller` (408 for a stalled request body). When the exchange ends, however it ends, the request is reported
 * (`weft:request-end`).
 */
export function serveExchange(
  d: Downstream,
  controller: Cancel,
  record: RequestRecord,
  edge: ExchangeEdge,
  grpc: boolean,
  extra: (record: RequestRecord) => HeaderMap,
  run: (signal: CancelSignal) => Promise<ProxyResponse>,
): void {
  record.requestLength = d.headers['content-length'];
  d.onClose((complete) => {
    if (!complete) {
      controller.abort(new ClientClosedError());
      if (record.status === 0) record.status = 499; // nginx's code for "client closed request"
    }
    edge.events.emit('weft:request-end', { record, durationMs: record.elapsedMs() });
  });

  let result: Promise<ProxyResponse>;
  try {
    result = run(controller.signal);
  } catch (err) {
    result = Promise.reject(err as Error);
  }

  result.then(
    (response) => {
      record.status = response.status;
      record.responseLength = response.headers['content-length'];
      if (grpc) record.grpcStatus = grpcStatusIn(response.headers); // trailers-only
      d.respond({ response }, { dropMeshHeaders: edge.dropMeshHeaders, extra: extra(record), grpc }, (err) => {
        if (err) {
          // The body broke off after the headers went out: say which side broke it.
          if (!record.errorCode) record.errorCode = controller.signal.aborted ? 'WEFT_ERR_CLIENT_CLOSED' : edge.bodyBrokenCode;
        } else if (grpc && record.grpcStatus === '') {
          record.grpcStatus = grpcStatusIn(response.trailers?.());
        }
      });
      // After respond: its pipe is attached, so this listener only watches the chunks pass.
      if (response.body !== null && record.responseLength === undefined && edge.countBodyBytes()) countBody(response.body, record);
    },
    (err: unknown) => {
      const error = asProxyError(err);
      record.errorCode = error.code;
      // gRPC errors go out as HTTP 200 with grpc-status; the record says what the client saw.
      if (record.status === 0) record.status = grpc ? 200 : error.httpStatus;
      if (grpc) record.grpcStatus = String(grpcStatusOf(error));
      d.respond({ error }, { dropMeshHeaders: edge.dropMeshHeaders, extra: extra(record), grpc }, () => undefined);
    },
  );
}

/**
 * The size of a response body sent without `content-length` (chunked HTTP/1.1, HTTP/2 without the
 * header), summed as its chunks pass on their way to the client. Only while the access log is on,
 * the one reader of it: every other request pays one flag check. A listener added to a body that
 * its pipe has paused leaves it paused, so back-pressure is untouched.
 */
function countBody(body: Readable | Buffer, record: RequestRecord): void {
  if (Buffer.isBuffer(body)) {
    record.responseBodyBytes = body.length; // whole, already written with the headers
    return;
  }
  record.responseBodyBytes = 0;
  body.on('data', (chunk: Buffer) => {
    record.responseBodyBytes += chunk.length;
  });
}
