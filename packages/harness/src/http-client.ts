import * as http from 'node:http';

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpRequestOptions {
  readonly port: number;
  readonly host?: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
  readonly agent?: http.Agent;
}

/** One plain HTTP/1.1 request on loopback; resolves with the whole response (never throws on a status). */
export function httpRequest(options: HttpRequestOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: options.host ?? '127.0.0.1',
        port: options.port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: options.agent,
        timeout: options.timeoutMs ?? 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response from 127.0.0.1:${options.port}${options.path ?? '/'} within ${options.timeoutMs ?? 10_000}ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GET a loopback URL path and return the body, failing on a non-2xx status (for /metrics, /config). */
export async function httpGetText(port: number, path: string): Promise<string> {
  const res = await httpRequest({ port, path });
  if (res.status < 200 || res.status > 299) throw new Error(`GET 127.0.0.1:${port}${path} answered ${res.status}: ${res.body.slice(0, 200)}`);
  return res.body;
}
