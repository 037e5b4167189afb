import * as http from 'node:http';

export type CheckStatus = 'passing' | 'warning' | 'critical';

/**
 * One run of a Consul HTTP check, as Consul's docs describe it: a GET to the URL; 2xx is
 * passing, 429 (Too Many Requests) is warning, anything else (another status, a refused
 * connection, the timeout) is critical. Part of the Consul HTTP API test server.
 */
export function runHttpCheck(url: string, timeoutMs: number): Promise<{ status: CheckStatus; output: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs, headers: { 'User-Agent': 'Consul Health Check' } }, (res) => {
      res.resume();
      const code = res.statusCode ?? 0;
      const status: CheckStatus = code >= 200 && code < 300 ? 'passing' : code === 429 ? 'warning' : 'critical';
      res.on('end', () => resolve({ status, output: `HTTP GET ${url}: ${code} ${res.statusMessage ?? ''}` }));
      res.on('error', () => resolve({ status: 'critical', output: `HTTP GET ${url}: response cut` }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 'critical', output: `Get "${url}": ${err.message}` }));
  });
}
