import type { Duplex, Readable } from 'node:stream';

/** Header names in lower case, as Node and undici give them. */
export type HeaderMap = Record<string, string | string[]>;

/** A response once its status and headers are known; the body streams on. */
export interface ProxyResponse {
  readonly status: number;
  readonly headers: HeaderMap;
  /**
   * A stream, or a Buffer when the whole body arrived with the headers (most small answers: no
   * stream is made for them, see DispatchResponse). Null when there is nothing to send (HEAD, 204,
   * 304, a synthesized empty answer, or an HTTP/2 answer that ended with its headers, such as a
   * gRPC trailers-only error).
   */
  readonly body: Readable | Buffer | null;
  /**
   * The trailers that followed the body (HTTP/2, or chunked HTTP/1.1), known once the body has
   * ended: writers read them on the body's 'end'. Absent when the upstream cannot send any.
   */
  readonly trailers?: () => HeaderMap | undefined;
  /**
   * After a 101 answer to an Upgrade request: the upstream connection, which then carries bytes
   * both ways until either side closes it (WebSocket and other upgraded protocols).
   */
  readonly tunnel?: Duplex;
}

/** Gives up a response nobody will send: a streamed body is destroyed, which closes its connection. */
export function discardBody(body: ProxyResponse['body']): void {
  if (body !== null && !Buffer.isBuffer(body)) body.destroy();
}

/**
 * The one contract of every layer: a request in, a response out once its headers are known.
 * A layer is a function from its target's parameters and the next service to a service.
 */
export type Service<Req, Res = ProxyResponse> = (req: Req) => Promise<Res>;
