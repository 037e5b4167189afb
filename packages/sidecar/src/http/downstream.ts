import type { Readable } from 'node:stream';
import type { Cancel } from '../layers/cancel';
import type { ProxyError } from '../layers/errors';
import type { HeaderMap, ProxyResponse } from '../layers/service';

/**
 * What a listener hands each request to: the request, and its cancellation, which the listener
 * aborts when it gives up on the exchange (its request body stalled) and the client's leaving aborts too.
 */
export type DownstreamHandler = (d: Downstream, cancel: Cancel) => void;

/** The protocol a client spoke to a listener. */
export type HttpProtocol = 'http1' | 'h2';

/** What a stack produced for one request: a response, or the sidecar's own error. */
export type Outcome = { readonly response: ProxyResponse } | { readonly error: ProxyError };

/** The slice of a TLS connection that names the peer (a TLSSocket, or a plain object in tests). */
export interface PeerCertificateSource extends ConnectionAddresses {
  getPeerX509Certificate(): { readonly subjectAltName: string | undefined; readonly raw: Buffer } | undefined;
}

/** A connection's addresses, as a TLS socket has them (the SERVER span reads them when recorded). */
export interface ConnectionAddresses {
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  readonly localPort?: number | undefined;
}

export interface RespondOptions {
  /** Drop `x-weft-*` from the response (inbound: the peer's own headers never pass). */
  readonly dropMeshHeaders: boolean;
  /** Headers the sidecar adds (`x-weft-attempts`). */
  readonly extra: HeaderMap;
  /** The request is gRPC: the sidecar's own errors are answered as gRPC statuses (HTTP 200). */
  readonly grpc: boolean;
}

/**
 * One request from a client, whatever carried it: an HTTP/1.1 request, an HTTP/2 stream, or an
 * HTTP/1.1 Upgrade. The edge of each stack (accept) reads it and answers through it, so the
 * stacks themselves never see a protocol's API. Adapters: downstream-h1, downstream-h2, upgrade.
 */
export interface Downstream {
  readonly protocol: HttpProtocol;
  readonly method: string;
  /** The request target as received: origin form, or absolute form (`http://host/path`). */
  readonly url: string;
  /** `Host` (HTTP/1.1) or `:authority` (HTTP/2). */
  readonly authority: string | undefined;
  /** Request headers as received (lower-case names), without HTTP/2 pseudo-headers. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The TLS connection the request came on; null for plaintext. */
  readonly tls: PeerCertificateSource | null;
  /** The `Upgrade` token (`websocket`) when the client asks to switch protocols. */
  readonly upgrade: string | undefined;
  /**
   * The request body as a stream of its own (a layer may destroy it without harming the client's
   * connection), or a Buffer when it arrived whole with the head (HTTP/2: see h2-whole-body), and
   * its declared length; null when there is none. Call at most once.
   */
  takeBody(): { readonly body: Readable | Buffer | null; readonly length: number | undefined };
  /**
   * Writes the answer; never throws. `done` runs once it is written or failed, with the error that
   * broke off the body, if any.
   */
  respond(outcome: Outcome, options: RespondOptions, done: (err: Error | undefined) => void): void;
  /** Runs once when the exchange is over; `complete` is false when the client left before the end. */
  onClose(listener: (complete: boolean) => void): void;
}
