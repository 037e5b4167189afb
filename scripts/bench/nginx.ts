/**
 * nginx processes for the benchmark: each with its own prefix directory and config under the
 * run's temp dir, on loopback, `daemon off` so it is our child, one worker (the sidecars are
 * single-threaded too). Stopped with SIGTERM (nginx's fast shutdown, which also ends its workers).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PairCerts } from './certs';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** If this process ends without stopping them (an uncaught error), the masters still get SIGTERM. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGTERM');
  });
}

export class NginxProcess {
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #errorLog: string;

  private constructor(name: string, child: ChildProcess, errorLog: string) {
    this.name = name;
    this.#child = child;
    this.#errorLog = errorLog;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    void this.#exited.then(() => running.delete(child));
  }

  /** The master's pid; its workers are its children. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** Writes `<prefix>/nginx.conf` from the given `http { }` body and starts nginx on it. */
  static async start(name: string, prefix: string, httpBlock: string, waitForPorts: readonly number[]): Promise<NginxProcess> {
    for (const dir of ['logs', 'tmp']) fs.mkdirSync(path.join(prefix, dir), { recursive: true });
    const conf = path.join(prefix, 'nginx.conf');
    const errorLog = path.join(prefix, 'logs', 'error.log');
    fs.writeFileSync(conf, mainConfig(prefix, errorLog, httpBlock));
    installExitHook();
    const child = spawn('nginx', ['-p', prefix, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] });
    running.add(child);
    const proc = new NginxProcess(name, child, errorLog);
    await proc.#waitListening(waitForPorts);
    return proc;
  }

  async #waitListening(ports: readonly number[]): Promise<void> {
    const { connect } = await import('node:net');
    const open = (port: number): Promise<boolean> =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
        s.on('error', () => resolve(false));
      });
    for (let i = 0; i < 100; i++) {
      if (this.#child.exitCode !== null) break;
      if ((await Promise.all(ports.map(open))).every(Boolean)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`nginx ${this.name} did not start listening on ${ports.join(', ')}; its error log:\n${this.errorLogTail()}`);
  }

  errorLogTail(): string {
    try {
      return fs.readFileSync(this.#errorLog, 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no error log)';
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
      await this.#exited;
      clearTimeout(timer);
    }
  }
}

function mainConfig(prefix: string, errorLog: string, httpBlock: string): string {
  const temp = (kind: string): string => `${kind}_temp_path ${path.join(prefix, 'tmp', kind)};`;
  // prettier-ignore
  return [
    'daemon off;', 'master_process on;', 'worker_processes 1;',
    // As root, workers would switch to `nobody` and lose access to our 0700 temp dir.
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${path.join(prefix, 'nginx.pid')};`, `error_log ${errorLog} warn;`,
    'events { worker_connections 4096; }',
    'http {',
    '  access_log off;', '  default_type application/octet-stream;',
    '  keepalive_requests 1000000;', '  keepalive_timeout 75s;',
    `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
    httpBlock,
    '}',
    '',
  ].join('\n');
}

/** The upstream: static files from `root` (`/1k.bin`, `/16k.bin`), HTTP/1.1 keep-alive. */
export function upstreamHttpBlock(port: number, root: string): string {
  return `  server { listen 127.0.0.1:${port}; root ${root}; location / { } }`;
}

const KEEPALIVE = 'keepalive 64; keepalive_requests 1000000; keepalive_timeout 60s;';

/**
 * The sending proxy: plain HTTP/1.1 on `httpPort` and h2c on `grpcPort` from the generator;
 * TLS 1.3 with a client certificate to the receiving proxy, verifying its certificate, over
 * keep-alive pools (TLS sessions reused on reconnect).
 */
export function clientProxyBlock(ports: { http: number; grpc: number; peerHttp: number; peerGrpc: number }, certs: PairCerts): string {
  const tls = (m: 'proxy' | 'grpc'): string =>
    `${m}_ssl_certificate ${certs.clientCert}; ${m}_ssl_certificate_key ${certs.clientKey}; ${m}_ssl_trusted_certificate ${certs.ca}; ` +
    `${m}_ssl_verify on; ${m}_ssl_name ${certs.serverName}; ${m}_ssl_protocols TLSv1.3; ${m}_ssl_session_reuse on;`;
  return [
    `  upstream peer_http { server 127.0.0.1:${ports.peerHttp}; ${KEEPALIVE} }`,
    `  upstream peer_grpc { server 127.0.0.1:${ports.peerGrpc}; ${KEEPALIVE} }`,
    `  server { listen 127.0.0.1:${ports.http};`,
    `    location / { proxy_pass https://peer_http; proxy_http_version 1.1; proxy_set_header Connection ""; ${tls('proxy')} } }`,
    `  server { listen 127.0.0.1:${ports.grpc} http2;`,
    `    location / { grpc_pass grpcs://peer_grpc; ${tls('grpc')} } }`,
  ].join('\n');
}

/** The receiving proxy: TLS 1.3 requiring a client certificate from the CA, to the upstreams over keep-alive pools. */
export function serverProxyBlock(ports: { tlsHttp: number; tlsGrpc: number; appHttp: number; appGrpc: number }, certs: PairCerts): string {
  const tls = `ssl_certificate ${certs.serverCert}; ssl_certificate_key ${certs.serverKey}; ssl_protocols TLSv1.3; ssl_client_certificate ${certs.ca}; ssl_verify_client on;`;
  return [
    `  upstream app_http { server 127.0.0.1:${ports.appHttp}; ${KEEPALIVE} }`,
    `  upstream app_grpc { server 127.0.0.1:${ports.appGrpc}; ${KEEPALIVE} }`,
    `  server { listen 127.0.0.1:${ports.tlsHttp} ssl; ${tls}`,
    '    location / { proxy_pass http://app_http; proxy_http_version 1.1; proxy_set_header Connection ""; } }',
    `  server { listen 127.0.0.1:${ports.tlsGrpc} ssl http2; ${tls}`,
    '    location / { grpc_pass grpc://app_grpc; } }',
  ].join('\n');
}
