import type { HeaderMap } from '../../src/layers/service';
import type { HeadError, ParsedHead } from '../../src/http1/head';
import { CHUNKED, UNTIL_CLOSE, type MessageSink } from '../../src/http1/message-reader';

/** One message as a sink saw it: its head, its body bytes joined, its trailers. */
export interface Seen {
  head: ParsedHead;
  body: string;
  trailers: HeaderMap | undefined;
  ended: boolean;
}

/**
 * A MessageSink that frames bodies as a client would (HEAD, 1xx, 204 and 304 without a body;
 * chunked; a length; else to the close) and records what it was given, to compare feeds.
 */
export class RecordingSink implements MessageSink {
  readonly messages: Seen[] = [];
  error: HeadError | undefined;
  /** Requests whose answers have no body, by the order of the messages (a client's HEAD). */
  headless = new Set<number>();
  onEndHook: (() => void) | undefined;

  onHead(head: ParsedHead): number {
    const index = this.messages.length;
    this.messages.push({ head, body: '', trailers: undefined, ended: false });
    const status = head.status;
    if (this.headless.has(index) || (status > 0 && (status < 200 || status === 204 || status === 304))) return 0;
    if (head.chunked) return CHUNKED;
    if (head.contentLength >= 0) return head.contentLength;
    return status > 0 || head.otherCoding ? UNTIL_CLOSE : 0;
  }

  onBody(chunk: Buffer): void {
    const last = this.messages.at(-1) as Seen;
    last.body += chunk.toString('latin1');
  }

  onEnd(trailers: HeaderMap | undefined): void {
    const last = this.messages.at(-1) as Seen;
    last.trailers = trailers;
    last.ended = true;
    this.onEndHook?.();
  }

  onError(err: HeadError): void {
    this.error = err;
  }

  /** What was seen, as plain data to deep-compare. */
  summary(): unknown {
    return {
      error: this.error ? [this.error.status, this.error.message] : undefined,
      messages: this.messages.map((m) => ({ status: m.head.status, method: m.head.method, headers: { ...m.head.headers }, body: m.body, trailers: m.trailers && { ...m.trailers }, ended: m.ended })),
    };
  }
}
