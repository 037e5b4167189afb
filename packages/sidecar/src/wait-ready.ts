import { request } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, parseDuration } from '@weft/api';

export const WAIT_READY_USAGE = `Usage: weft-sidecar wait-ready [--admin-port P] [--timeout D]

Waits until the local sidecar is ready (http://127.0.0.1:P/ready answers 200), then exits 0.
For clusters without native sidecars (Kubernetes < 1.29) and for VMs: run the app after it,
  command: ["sh", "-c", "weft-sidecar wait-ready && exec my-app"]
or as the app container's postStart hook.

Flags:
  --admin-port P   the sidecar's admin port (default ${DEFAULT_PORTS.sidecarAdmin})
  --timeout D      give up after D (default 60s)
  -h, --help       show this help

Exit codes: 0 ready, 1 not ready in time, 2 bad flags.
`;

const POLL_MS = 200;
const REQUEST_TIMEOUT_MS = 1_000;

/** One GET /ready: the status code, or why there was none (`connection refused`). */
function probe(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/ready', timeout: REQUEST_TIMEOUT_MS, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'connection refused' : err.message));
    req.end();
  });
}

/** The `weft-sidecar wait-ready` command; resolves to its exit code. */
export async function waitReady(argv: readonly string[], stderr: (text: string) => void): Promise<number> {
  let values: { 'admin-port'?: string; timeout?: string; help?: boolean };
  try {
    values = parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: { 'admin-port': { type: 'string' }, timeout: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }).values;
  } catch (err) {
    stderr(`weft-sidecar wait-ready: ${(err as Error).message}\nRun weft-sidecar wait-ready --help for the flags.\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(WAIT_READY_USAGE);
    return 0;
  }
  const portText = values['admin-port'] ?? String(DEFAULT_PORTS.sidecarAdmin);
  const port = Number(portText);
  const timeoutMs = parseDuration(values.timeout ?? '60s');
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535 || timeoutMs === undefined) {
    stderr(`weft-sidecar wait-ready: ${timeoutMs === undefined ? `--timeout must be a duration such as 60s, got ${JSON.stringify(values.timeout)}` : `--admin-port must be a port number from 1 to 65535, got ${JSON.stringify(portText)}`}\n`);
    return 2;
  }
  const deadline = Date.now() + timeoutMs;
  let last: number | string;
  for (;;) {
    last = await probe(port);
    if (last === 200) return 0;
    if (Date.now() + POLL_MS > deadline) break;
    await sleep(POLL_MS);
  }
  const seen = typeof last === 'number' ? `/ready answered ${last}` : last;
  stderr(
    `weft-sidecar wait-ready: WEFT_ERR_NOT_READY: the sidecar on 127.0.0.1:${port} was not ready after ${values.timeout ?? '60s'} (last: ${seen}); ` +
      'check that it runs with --admin-port ' + port + ', and its logs for why (no join token, control plane unreachable)\n',
  );
  return 1;
}
