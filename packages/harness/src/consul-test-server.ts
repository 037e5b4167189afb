import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runHttpCheck, type CheckStatus } from './consul-test-checks';

/**
 * A Consul HTTP API test server: NOT Consul. No Consul server can be installed where Weft's tests
 * run, so this implements, in the test process on loopback, the few endpoints Weft uses, as
 * Consul's API documentation describes them (developer.hashicorp.com/consul/api-docs):
 *
 *   PUT /v1/agent/service/register           (body: ID, Name, Address, Port, Meta, Tags, Check/Checks)
 *   PUT /v1/agent/service/deregister/:id
 *   GET /v1/health/service/:name              (?passing, ?index, ?wait, ?dc; X-Consul-Index)
 *   GET /v1/catalog/services                  (?index, ?wait, ?dc; X-Consul-Index)
 *
 * Blocking queries: with `index` > 0 a read waits until the index of what it reads rises above
 * it, or `wait` (default 5m, at most 10m) plus a random wait/16 elapses, then answers with the
 * current data and index. Tokens come in X-Consul-Token; with `aclToken` set, an unknown token is
 * 403 "ACL not found", a missing one is the anonymous token (reads filtered to nothing, writes 403).
 * HTTP checks are run (2xx passing, 429 warning, anything else critical) so that `?passing` is
 * real; `overrideCheck` forces a status as if the checked endpoint answered so.
 *
 * Faults a real Consul shows rarely, for the blocking-query rules: `restoreIndex(n)` (the index
 * goes backwards, as after a snapshot restore), `faults.zeroIndex` (X-Consul-Index: 0), and
 * `faults.noBlocking` (every read answers at once). Guesses are marked GUESS below.
 */
export interface ConsulTestServerOptions {
  /** When set, ACLs are on and this is the only valid token. */
  readonly aclToken?: string;
  readonly datacenter?: string;
  /** Fixed port (to restart where clients expect it); 0 picks one. */
  readonly port?: number;
}

interface Check {
  readonly checkId: string;
  readonly name: string;
  status: CheckStatus;
  output: string;
  readonly http?: string;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  timer?: NodeJS.Timeout;
}

interface Service {
  readonly id: string;
  readonly name: string;
  readonly address: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
  readonly checks: Check[];
  modifyIndex: number;
}

const NODE = 'weft-consul-test-node';
const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;

export class ConsulTestServer {
  readonly #options: ConsulTestServerOptions;
  readonly #services = new Map<string, Service>();
  /** Index of the last write to the catalog (GUESS: one counter for every table; Consul keeps one per table). */
  #index = 1;
  readonly #waiters = new Set<() => void>();
  readonly #overrides = new Map<string, CheckStatus>();
  #server: http.Server | undefined;
  #port = 0;
  /** Requests answered, by path: lets tests count how often a client asked. */
  readonly requests: { method: string; path: string; query: string }[] = [];
  readonly faults = { zeroIndex: false, noBlocking: false };

  private constructor(options: ConsulTestServerOptions) {
    this.#options = options;
  }

  static async start(options: ConsulTestServerOptions = {}): Promise<ConsulTestServer> {
    const server = new ConsulTestServer(options);
    await server.#listen(options.port ?? 0);
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /** HOST:PORT, what --consul-addr and --consul-register take. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get index(): number {
    return this.#index;
  }

  /** The registered services by ID (what /v1/agent/services would list). */
  serviceIds(): string[] {
    return [...this.#services.keys()].sort();
  }

  /** The instances of one service: ID, Meta and the status of their checks (worst first). */
  instances(name: string): { id: string; meta: Readonly<Record<string, string>>; status: CheckStatus }[] {
    const rank = { critical: 0, warning: 1, passing: 2 } as const;
    return [...this.#services.values()].filter((s) => s.name === name).map((s) => ({
      id: s.id, meta: s.meta, status: s.checks.map((c) => c.status).sort((a, b) => rank[a] - rank[b])[0] ?? 'passing',
    }));
  }

  /** Forces a service's checks to `status` (undefined: back to what they report), as if the check target answered so. */
  overrideCheck(serviceId: string, status: CheckStatus | undefined): void {
    if (status) this.#overrides.set(serviceId, status);
    else this.#overrides.delete(serviceId);
    const service = this.#services.get(serviceId);
    if (!service) return;
    for (const check of service.checks) {
      if (status) this.#setStatus(service, check, status, `forced ${status} by the test`);
      else this.#runCheck(service, check);
    }
  }

  /** Stops answering (an outage): open blocking queries are cut, the state is kept. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#services.values()) for (const c of s.checks) clearTimeout(c.timer);
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /**
   * Sets the index back to `index` without cutting connections, as when the servers restore a
   * snapshot: reads blocked at a higher index wait out their wait time, then get the lower index.
   */
  restoreIndex(index: number): void {
    this.#index = index;
    for (const s of this.#services.values()) s.modifyIndex = Math.min(s.modifyIndex, index);
  }

  /** Answers again on the same port, with the state it had (an agent restart); `index` as restoreIndex. */
  async restart(options: { index?: number } = {}): Promise<void> {
    if (this.#server) await this.stop();
    if (options.index !== undefined) this.restoreIndex(options.index);
    await this.#listen(this.#port);
    for (const s of this.#services.values()) for (const c of s.checks) this.#schedule(s, c, 0);
  }

  async close(): Promise<void> {
    await this.stop();
    for (const wake of this.#waiters) wake();
  }

  async #listen(port: number): Promise<void> {
    const server = http.createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.#port = (server.address() as AddressInfo).port;
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://consul');
    this.requests.push({ method: req.method ?? '', path: url.pathname, query: url.search });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.#route(req.method ?? 'GET', url, req.headers['x-consul-token'], Buffer.concat(chunks).toString('utf8'), res);
      } catch (err) {
        text(res, 500, err instanceof Error ? err.message : String(err));
      }
    });
  }

  #route(method: string, url: URL, token: string | string[] | undefined, body: string, res: http.ServerResponse): void {
    const path = url.pathname;
    const acl = this.#acl(typeof token === 'string' ? token : undefined);
    if (acl === 'unknown') return text(res, 403, 'ACL not found');
    const dc = url.searchParams.get('dc');
    if (dc !== null && dc !== (this.#options.datacenter ?? 'dc1')) return text(res, 500, `No path to datacenter`);
    if (path === '/v1/agent/service/register') {
      if (method !== 'PUT') return text(res, 405, `method ${method} not allowed`);
      if (acl === 'anonymous') return text(res, 403, 'Permission denied: anonymous token lacks permission \'service:write\'');
      return this.#register(body, res);
    }
    if (path.startsWith('/v1/agent/service/deregister/')) {
      if (method !== 'PUT') return text(res, 405, `method ${method} not allowed`);
      if (acl === 'anonymous') return text(res, 403, 'Permission denied: anonymous token lacks permission \'service:write\'');
      const id = decodeURIComponent(path.slice('/v1/agent/service/deregister/'.length));
      const service = this.#services.get(id);
      // GUESS: Consul answers an unknown ID with 404 and this text (agent/agent_endpoint.go); we have not run one to compare.
      if (!service) return text(res, 404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
      for (const c of service.checks) clearTimeout(c.timer);
      this.#services.delete(id);
      this.#bump();
      return text(res, 200, '');
    }
    if (method !== 'GET') return text(res, 405, `method ${method} not allowed`);
    if (path.startsWith('/v1/health/service/')) {
      const name = decodeURIComponent(path.slice('/v1/health/service/'.length));
      const passing = url.searchParams.has('passing') && url.searchParams.get('passing') !== 'false';
      return this.#blocking(url, res, () => this.#serviceIndex(name), () => (acl === 'anonymous' ? [] : this.#health(name, passing)), acl === 'anonymous');
    }
    if (path === '/v1/catalog/services') {
      return this.#blocking(url, res, () => this.#index, () => (acl === 'anonymous' ? {} : this.#catalog()), acl === 'anonymous');
    }
    return text(res, 404, '');
  }

  #acl(token: string | undefined): 'ok' | 'anonymous' | 'unknown' {
    const required = this.#options.aclToken;
    if (required === undefined) return 'ok';
    if (token === undefined || token === '' || token === 'anonymous') return 'anonymous';
    return token === required ? 'ok' : 'unknown';
  }

  #register(body: string, res: http.ServerResponse): void {
    let def: Record<string, unknown>;
    try {
      def = JSON.parse(body) as Record<string, unknown>;
    } catch (err) {
      return text(res, 400, `Request decode failed: ${(err as Error).message}`);
    }
    const name = typeof def['Name'] === 'string' ? def['Name'] : '';
    if (!name) return text(res, 400, 'Missing service name');
    const id = typeof def['ID'] === 'string' && def['ID'] ? def['ID'] : name;
    const meta: Record<string, string> = {};
    if (def['Meta'] && typeof def['Meta'] === 'object') for (const [k, v] of Object.entries(def['Meta'] as object)) meta[k] = String(v);
    const checkDefs = [def['Check'], ...(Array.isArray(def['Checks']) ? (def['Checks'] as unknown[]) : [])].filter((c): c is Record<string, unknown> => !!c && typeof c === 'object');
    const old = this.#services.get(id);
    for (const c of old?.checks ?? []) clearTimeout(c.timer);
    const checks = checkDefs.map((c, i): Check => ({
      checkId: typeof c['CheckID'] === 'string' ? c['CheckID'] : `service:${id}${checkDefs.length > 1 ? `:${i + 1}` : ''}`,
      name: typeof c['Name'] === 'string' ? c['Name'] : `Service '${name}' check`,
      // Consul's documented default for a new check is critical, until it first passes.
      status: c['Status'] === 'passing' || c['Status'] === 'warning' ? c['Status'] : 'critical',
      output: '',
      ...(typeof c['HTTP'] === 'string' ? { http: c['HTTP'] } : {}),
      intervalMs: goDuration(c['Interval']) ?? 10_000,
      timeoutMs: goDuration(c['Timeout']) ?? 10_000,
    }));
    const service: Service = {
      id, name, address: typeof def['Address'] === 'string' ? def['Address'] : '', port: typeof def['Port'] === 'number' ? def['Port'] : 0,
      tags: Array.isArray(def['Tags']) ? (def['Tags'] as unknown[]).map(String) : [], meta, checks, modifyIndex: 0,
    };
    this.#services.set(id, service);
    this.#bump(service);
    // GUESS: Consul staggers a new check's first run randomly within its interval; it runs here at once.
    for (const c of checks) this.#schedule(service, c, 0);
    text(res, 200, '');
  }

  #schedule(service: Service, check: Check, delayMs: number): void {
    if (!check.http) return;
    clearTimeout(check.timer);
    check.timer = setTimeout(() => this.#runCheck(service, check), delayMs);
    check.timer.unref();
  }

  #runCheck(service: Service, check: Check): void {
    if (!check.http || !this.#server || this.#services.get(service.id) !== service) return;
    const forced = this.#overrides.get(service.id);
    void runHttpCheck(check.http, check.timeoutMs).then(({ status, output }) => {
      if (this.#services.get(service.id) !== service || !this.#server) return;
      this.#setStatus(service, check, forced ?? status, forced ? `forced ${forced} by the test` : output);
      this.#schedule(service, check, check.intervalMs);
    });
  }

  #setStatus(service: Service, check: Check, status: CheckStatus, output: string): void {
    check.output = output;
    if (check.status === status) return;
    check.status = status;
    this.#bump(service);
  }

  #bump(service?: Service): void {
    this.#index += 1;
    if (service) service.modifyIndex = this.#index;
    for (const wake of [...this.#waiters]) wake();
  }

  /**
   * GUESS: the index of a service's health is the last write to that service's instances or checks;
   * for a service with none, the catalog's index (Consul returns the tables' max index).
   */
  #serviceIndex(name: string): number {
    const own = [...this.#services.values()].filter((s) => s.name === name).map((s) => s.modifyIndex);
    return own.length > 0 ? Math.max(...own) : this.#index;
  }

  #health(name: string, passing: boolean): unknown[] {
    const dc = this.#options.datacenter ?? 'dc1';
    return [...this.#services.values()]
      .filter((s) => s.name === name)
      .sort((a, b) => a.id.localeCompare(b.id))
      .map((s) => ({
        Node: { ID: '00000000-0000-0000-0000-000000000001', Node: NODE, Address: '127.0.0.1', Datacenter: dc, TaggedAddresses: {}, Meta: {} },
        Service: { ID: s.id, Service: s.name, Tags: s.tags, Address: s.address, Meta: s.meta, Port: s.port, Weights: { Passing: 1, Warning: 1 }, EnableTagOverride: false, CreateIndex: s.modifyIndex, ModifyIndex: s.modifyIndex },
        Checks: [
          { Node: NODE, CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Notes: '', Output: 'Agent alive and reachable', ServiceID: '', ServiceName: '', ServiceTags: [] },
          ...s.checks.map((c) => ({ Node: NODE, CheckID: c.checkId, Name: c.name, Status: c.status, Notes: '', Output: c.output, ServiceID: s.id, ServiceName: s.name, ServiceTags: s.tags })),
        ],
      }))
      .filter((entry) => !passing || entry.Checks.every((c) => c.Status === 'passing'));
  }

  #catalog(): Record<string, string[]> {
    const out: Record<string, string[]> = { consul: [] };
    for (const s of this.#services.values()) out[s.name] = [...new Set([...(out[s.name] ?? []), ...s.tags])];
    return out;
  }

  /** Answers at once unless `index` > 0 and nothing read has moved past it; then waits for a write or the wait time. */
  #blocking(url: URL, res: http.ServerResponse, indexOf: () => number, read: () => unknown, filtered: boolean): void {
    const minIndex = Number(url.searchParams.get('index') ?? '0');
    if (!Number.isFinite(minIndex) || minIndex < 0) return text(res, 400, `Invalid index: ${url.searchParams.get('index')}`);
    const asked = goDuration(url.searchParams.get('wait') ?? undefined);
    const waitMs = Math.min(asked ?? DEFAULT_WAIT_MS, MAX_WAIT_MS);
    // Consul adds up to wait/16 of jitter so that many watchers do not wake together.
    const jitteredMs = waitMs + Math.floor(Math.random() * (waitMs / 16));
    const answer = (): void => {
      if (res.destroyed) return;
      const headers: Record<string, string> = {
        'Content-Type': 'application/json',
        'X-Consul-Index': String(this.faults.zeroIndex ? 0 : indexOf()),
        'X-Consul-KnownLeader': 'true',
        'X-Consul-LastContact': '0',
      };
      if (filtered) headers['X-Consul-Results-Filtered-By-ACLs'] = 'true';
      res.writeHead(200, headers);
      res.end(JSON.stringify(read()));
    };
    if (minIndex === 0 || indexOf() > minIndex || this.faults.noBlocking) return answer();
    const done = (): void => {
      this.#waiters.delete(wake);
      clearTimeout(timer);
      answer();
    };
    const wake = (): void => {
      if (indexOf() > minIndex || !this.#server) done();
    };
    const timer = setTimeout(done, jitteredMs);
    timer.unref();
    this.#waiters.add(wake);
    res.on('close', () => {
      this.#waiters.delete(wake);
      clearTimeout(timer);
    });
  }
}

/** Consul's durations are Go's: "10s", "1m", "250ms"; a bare number is nanoseconds (GUESS for bare numbers in bodies). */
function goDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return value / 1e6;
  if (typeof value !== 'string' || value === '') return undefined;
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)?$/.exec(value);
  if (!m) return undefined;
  const unit = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 'ns') as 'ns'];
  return Number(m[1]) * unit;
}

function text(res: http.ServerResponse, status: number, body: string): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(body);
}

export type { CheckStatus } from './consul-test-checks';
