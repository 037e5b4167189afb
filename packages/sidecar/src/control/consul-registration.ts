import * as http from 'node:http';
import { Backoff, type Logger } from '@weft/api';
import type { HostPort } from './address';

/**
 * What a sidecar registers in Consul. The Meta keys are the contract with the control plane's
 * `--registry consul` (control-plane/src/registry/consul/consul-endpoints.ts, docs/consul.md).
 */
export interface ConsulRegistrationOptions {
  /** A Consul agent's HTTP API. */
  readonly agent: HostPort;
  readonly token?: string;
  readonly proxyId: string;
  readonly service: string;
  readonly namespace: string;
  /** The mTLS inbound address other sidecars dial, HOST:PORT. */
  readonly inbound: HostPort;
  readonly appPort: number;
  readonly labels: Readonly<Record<string, string>>;
  /** The admin `/ready` URL Consul's HTTP check polls. */
  readonly readyUrl: string;
  readonly checkIntervalMs: number;
  readonly logger: Logger;
}

const REQUEST_TIMEOUT_MS = 5_000;

/**
 * Registers this instance with the local Consul agent (`PUT /v1/agent/service/register`) with an
 * HTTP check on the admin `/ready`, retrying with backoff while the agent does not answer, and
 * deregisters it (`PUT /v1/agent/service/deregister/:id`) when the sidecar drains. Plain
 * `node:http`, not the `consul` client: every workload loads the sidecar, and two requests do not
 * justify three more packages in its start-up.
 */
export class ConsulRegistration {
  readonly #o: ConsulRegistrationOptions;
  readonly serviceId: string;
  #timer: NodeJS.Timeout | undefined;
  #registered = false;
  #stopped = false;

  constructor(options: ConsulRegistrationOptions) {
    this.#o = options;
    this.serviceId = `weft-${options.namespace}-${options.service}-${options.proxyId}`;
  }

  /** Registers now, and again with backoff until the agent accepts it. */
  start(): void {
    const backoff = new Backoff({ baseMs: 500, capMs: 30_000 });
    const attempt = (): void => {
      if (this.#stopped) return;
      this.#request('PUT', '/v1/agent/service/register', JSON.stringify(this.#definition())).then(
        () => {
          this.#registered = true;
          this.#o.logger.info('registered in Consul', { consul: `${this.#o.agent.host}:${this.#o.agent.port}`, serviceId: this.serviceId });
        },
        (err: unknown) => {
          const retryInMs = backoff.next();
          this.#o.logger.warn('Consul registration failed; retrying', { error: err instanceof Error ? err.message : String(err), retryInMs });
          this.#timer = setTimeout(attempt, retryInMs);
          this.#timer.unref();
        },
      );
    };
    attempt();
  }

  /** Deregisters (drain); a failure is logged: the check on /ready, which now fails, and DeregisterCriticalServiceAfter clean up. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#registered) return;
    try {
      await this.#request('PUT', `/v1/agent/service/deregister/${encodeURIComponent(this.serviceId)}`, '');
      this.#o.logger.info('deregistered from Consul', { serviceId: this.serviceId });
    } catch (err) {
      this.#o.logger.warn('Consul deregistration failed; its check on /ready will fail and Consul removes the instance after a minute', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  #definition(): unknown {
    const o = this.#o;
    const meta: Record<string, string> = {
      'weft-proxy-id': o.proxyId,
      'weft-inbound': `${o.inbound.host.includes(':') ? `[${o.inbound.host}]` : o.inbound.host}:${o.inbound.port}`,
      'weft-namespace': o.namespace,
      'weft-app-port': String(o.appPort),
    };
    for (const [k, v] of Object.entries(o.labels)) meta[`weft-label-${k}`] = v;
    const interval = `${Math.max(1, Math.round(o.checkIntervalMs / 1000))}s`;
    return {
      ID: this.serviceId,
      Name: o.service,
      Tags: ['weft'],
      Address: o.inbound.host,
      Port: o.inbound.port,
      Meta: meta,
      Check: { Name: 'weft sidecar /ready', HTTP: o.readyUrl, Interval: interval, Timeout: '2s', DeregisterCriticalServiceAfter: '1m' },
    };
  }

  #request(method: string, path: string, body: string): Promise<void> {
    const o = this.#o;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (o.token) headers['X-Consul-Token'] = o.token;
      const req = http.request({ host: o.agent.host, port: o.agent.port, method, path, headers, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new Error(`Consul answered ${method} ${path.split('/').slice(0, 5).join('/')} with ${status} ${text.trim().slice(0, 200)}${status === 403 ? ' (check --consul-token-file: the token needs service:write)' : ''}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS}ms`)));
      req.on('error', (err) => reject(new Error(`cannot reach Consul at ${o.agent.host}:${o.agent.port}: ${err.message}`)));
      req.end(body);
    });
  }
}
