import type { ClientHttp2Session, IncomingHttpHeaders } from 'node:http2';

export interface H2Result {
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly trailers: IncomingHttpHeaders | undefined;
}

/** One request over an h2c session (prior knowledge, as `curl --http2-prior-knowledge` sends). */
export function h2Request(session: ClientHttp2Session, path: string, authority: string, body?: Buffer, extraHeaders: Readonly<Record<string, string>> = {}): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ...extraHeaders, ':method': body ? 'POST' : 'GET', ':path': path, ':authority': authority }, { endStream: !body });
    let headers: IncomingHttpHeaders = {};
    let trailers: IncomingHttpHeaders | undefined;
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (headers = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve({ headers, body: Buffer.concat(chunks), trailers }));
    stream.on('error', reject);
    if (body) stream.end(body);
  });
}
