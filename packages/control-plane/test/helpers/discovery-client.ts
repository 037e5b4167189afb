import type * as grpc from '@grpc/grpc-js';
import type { DiscoveryRequest, DiscoveryResponse, WireNode } from '@weft/api';
import { openDiscoveryStream } from '@weft/harness';

/** A test sidecar's end of Discovery.Stream: queues responses and the final status. */
export class TestDiscoveryStream {
  readonly call: grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
  readonly #responses: DiscoveryResponse[] = [];
  #waiters: (() => void)[] = [];
  error: grpc.ServiceError | undefined;
  ended = false;

  constructor(client: grpc.Client) {
    this.call = openDiscoveryStream(client);
    this.call.on('data', (res: DiscoveryResponse) => {
      this.#responses.push(res);
      this.#wake();
    });
    this.call.on('error', (err: grpc.ServiceError) => {
      this.error = err;
      this.#wake();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.#wake();
    });
  }

  send(req: Partial<DiscoveryRequest>): void {
    this.call.write({ responseNonce: '', version: '', error: '', ...req });
  }

  announce(node: Partial<WireNode> & Pick<WireNode, 'proxyId' | 'service'>): void {
    this.send({ node: { namespace: 'default', address: '127.0.0.1:15006', labels: {}, ready: true, proxyVersion: 'test', certificateExpiresAtMs: 0, ...node } });
  }

  ack(res: DiscoveryResponse): void {
    this.send({ responseNonce: res.nonce, version: res.version });
  }

  nack(res: DiscoveryResponse, kept: string, message: string): void {
    this.send({ responseNonce: res.nonce, version: kept, error: message });
  }

  /** The next response, or rejects if the stream fails or nothing comes within `timeoutMs`. */
  async next(timeoutMs = 2000): Promise<DiscoveryResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const res = this.#responses.shift();
      if (res) return res;
      if (this.error) throw this.error;
      if (this.ended) throw new Error('stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no discovery response within ${timeoutMs}ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves with the status error the stream ended with. */
  async failure(timeoutMs = 2000): Promise<grpc.ServiceError> {
    const deadline = Date.now() + timeoutMs;
    while (!this.error) {
      if (Date.now() > deadline) throw new Error('the stream did not fail');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.error;
  }

  close(): void {
    this.call.cancel();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}

/** The discovery streams a suite opens, and every gRPC client: streams end after each test, clients at the end. */
export class OpenedStreams {
  readonly #streams: TestDiscoveryStream[] = [];
  readonly #clients: grpc.Client[] = [];

  /** A stream on `client` (closed with the others). */
  open(client: grpc.Client): TestDiscoveryStream {
    const stream = new TestDiscoveryStream(this.client(client));
    this.#streams.push(stream);
    return stream;
  }

  /** Keeps `client` to close it at the end. */
  client(client: grpc.Client): grpc.Client {
    this.#clients.push(client);
    return client;
  }

  endStreams(): void {
    for (const s of this.#streams.splice(0)) s.close();
  }

  closeAll(): void {
    this.endStreams();
    for (const c of this.#clients.splice(0)) c.close();
  }
}
