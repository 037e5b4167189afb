import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { NAME_RE, parseDuration, WeftError } from '@weft/api';
import { parseHostMaybePort, parseHostPort, type HostPort } from './control/address';
import { ControlPlaneAddresses } from './control/control-plane-addresses';
import type { AppProtocol } from './inbound/local-app';
import type { Http1Upstream } from './outbound/endpoint/upstream';
import { parseTcpForward, type TcpForward } from './outbound/tcp-forward';
import { readOtlpClient } from './telemetry/otlp-client';
import { SIDECAR_DEFAULTS, type ConsulRegisterOptions, type SidecarOptions } from './options';

export const USAGE = `Usage: weft-sidecar --service S --app-port P --control-plane HOST:PORT (--token T | --token-file F) [flags]
       weft-sidecar wait-ready [--admin-port P] [--timeout D]   (exits 0 once the sidecar is ready)

The Weft sidecar: carries the local app's mesh traffic over mTLS and enforces the mesh's policy.

Required:
  --service S                 the service this instance belongs to
  --app-port P                the local app's port (inbound requests are forwarded there)
  --control-plane HOST:PORT[,HOST:PORT...]
                              the control plane's gRPC address; with several replicas, all of
                              them: a sidecar moves on to the next when one cannot be reached
  --token T                   join token from \`weftctl token create\` (or --token-file F, or $WEFT_TOKEN)

Flags:
  --namespace N               namespace (default ${SIDECAR_DEFAULTS.namespace})
  --app-host H                the local app's host (default ${SIDECAR_DEFAULTS.appHost})
  --app-protocol P            what the app speaks. auto (default): the protocol its caller
                              spoke, so HTTP/2 and gRPC arrive as h2c and HTTP/1.1 as HTTP/1.1;
                              http1 or h2c (HTTP/2 without TLS) force one; tcp is raw bytes
                              (callers use --tcp-forward). Upgrades (WebSocket) go as HTTP/1.1
  --tcp-forward PORT=SVC      forward connections to 127.0.0.1:PORT to service SVC[.namespace]
                              over mTLS (repeatable); SVC's sidecar runs --app-protocol tcp
  --http1-upstream P          how the app's HTTP/1.1 requests travel to other sidecars: http1
                              (pooled connections, default) or h2 (one multiplexed connection)
  --token-file F              read the join token from a file
  --labels k=v,...            labels of this instance (subsets select on them)
  --outbound-port P           the app's calls to other services (default ${SIDECAR_DEFAULTS.outboundPort}; 0 picks one)
  --inbound-port P            other sidecars reach this instance here (default ${SIDECAR_DEFAULTS.inboundPort})
  --admin-port P              /ready /live /metrics for probes and Prometheus, /config for
                              loopback callers (default ${SIDECAR_DEFAULTS.adminPort})
  --advertise-address A       inbound address announced to the mesh: HOST:PORT, or HOST alone for
                              HOST:<inbound port> (default ${SIDECAR_DEFAULTS.advertiseHost}:<inbound port>)
  --bind-inbound H            address the inbound listener binds (default ${SIDECAR_DEFAULTS.bindInbound})
  --bind-admin H              address the admin listener binds (default ${SIDECAR_DEFAULTS.bindAdmin})
  --admin-remote-config       also serve /config to callers not on this host's loopback (it
                              shows the mesh's topology and policies; default: loopback only)
  --dns-port P                serve DNS for mesh names on 127.0.0.1:P (UDP and TCP; weft-init
                              --dns sends the app's DNS there; usually 15053); others forwarded
                              to /etc/resolv.conf's nameserver. Default: no DNS responder
  --consul-register HOST:PORT register this instance with the Consul agent there once ready (an
                              HTTP check on the admin /ready; Weft meta for the control plane's
                              --registry consul) and deregister it on SIGTERM
  --consul-token-file F       file holding the Consul ACL token (needs service:write)
  --consul-check-interval D   how often Consul checks /ready (default ${seconds(SIDECAR_DEFAULTS.consulCheckIntervalMs)})
  --otlp-ca-file F            export spans to MeshConfig's tracing.otlpEndpoint over TLS, the
                              collector's certificate verified against the PEM roots in F (a
                              system bundle such as /etc/ssl/certs/ca-certificates.crt for a
                              hosted backend)
  --otlp-cert-file F, --otlp-key-file F
                              client certificate chain and key (PEM) for a collector that asks
                              for one (both or neither; TLS on)
  --otlp-headers-file F       headers sent with every span export, one "name: value" a line
                              (an API key, a tenant); never logged, never shown in /config.
                              These files stay on this host: MeshConfig reaches every sidecar
  --drain-timeout D           on SIGTERM, how long in-flight requests may finish (default ${seconds(SIDECAR_DEFAULTS.drainTimeoutMs)})
  --body-idle-timeout D       a request body from which nothing arrives for D is cut off (408 if
                              no response has started; 0 for never). Idle time, not total: slow
                              uploads that keep moving are never cut (default ${seconds(SIDECAR_DEFAULTS.bodyIdleTimeoutMs)})
  --drain-quiet D             on SIGTERM, the app's outbound ports stay open while the app
                              still calls out, and close once it made no call for D (default
                              ${seconds(SIDECAR_DEFAULTS.drainQuietMs)}); the sidecar exits then, or at the drain timeout
  --memory-release-idle D     once the sidecar has served no request for D (and has none in
                              flight), it gives back the memory the traffic made it take: a
                              last-resort garbage collection and malloc_trim, once per idle
                              period, a few tens of ms of CPU (default ${seconds(SIDECAR_DEFAULTS.memoryReleaseIdleMs)}; 0 for never)
  -h, --help                  show this help
  --version                   print the version and exit

Logs are JSON lines on stderr; the line with "msg":"ready" says the sidecar is serving.
Exit codes: 0 stopped by SIGTERM/SIGINT, 1 could not start, 2 bad flags.
`;

/** A flag the sidecar cannot run with; exit code 2. */
export class UsageError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_BAD_FLAG', message);
  }
}

export type ParsedFlags = { readonly help: true } | { readonly help: false; readonly options: SidecarOptions };

const FLAGS = {
  service: { type: 'string' }, namespace: { type: 'string' }, 'app-port': { type: 'string' }, 'app-host': { type: 'string' },
  'control-plane': { type: 'string' }, token: { type: 'string' }, 'token-file': { type: 'string' }, labels: { type: 'string' },
  'inbound-port': { type: 'string' }, 'outbound-port': { type: 'string' }, 'admin-port': { type: 'string' },
  'advertise-address': { type: 'string' }, 'bind-inbound': { type: 'string' }, 'bind-admin': { type: 'string' },
  'drain-timeout': { type: 'string' }, 'body-idle-timeout': { type: 'string' }, 'drain-quiet': { type: 'string' }, 'memory-release-idle': { type: 'string' }, help: { type: 'boolean', short: 'h' }, 'admin-remote-config': { type: 'boolean' },
  'app-protocol': { type: 'string' }, 'tcp-forward': { type: 'string', multiple: true }, 'http1-upstream': { type: 'string' },
  'dns-port': { type: 'string' },
  'consul-register': { type: 'string' }, 'consul-token-file': { type: 'string' }, 'consul-check-interval': { type: 'string' },
  'otlp-ca-file': { type: 'string' }, 'otlp-cert-file': { type: 'string' }, 'otlp-key-file': { type: 'string' }, 'otlp-headers-file': { type: 'string' },
} as const;

/** Flags (and $WEFT_TOKEN) to sidecar options, or a UsageError naming the flag. */
export function parseFlags(argv: readonly string[], env: NodeJS.ProcessEnv): ParsedFlags {
  let values: Partial<Record<keyof typeof FLAGS, string | boolean | string[]>>;
  try {
    values = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (values.help) return { help: true };
  const str = (name: keyof typeof FLAGS): string | undefined => {
    const v = values[name];
    if (typeof v === 'string' && v.trim() === '') throw new UsageError(`--${name} must not be empty`);
    return typeof v === 'string' ? v.trim() : undefined;
  };
  const required = (name: keyof typeof FLAGS): string => {
    const v = str(name);
    if (v === undefined) throw new UsageError(`--${name} is required`);
    return v;
  };
  const port = (name: keyof typeof FLAGS, fallback: number, min = 0): number => {
    const v = str(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > 65535) throw new UsageError(`--${name} must be a port number from ${min} to 65535, got ${JSON.stringify(v)}`);
    return n;
  };
  const service = required('service');
  const namespace = str('namespace') ?? SIDECAR_DEFAULTS.namespace;
  checkName('service', service);
  checkName('namespace', namespace);
  const appPort = port('app-port', NaN, 1);
  if (Number.isNaN(appPort)) throw new UsageError('--app-port is required');
  const controlPlane = required('control-plane');
  const advertise = str('advertise-address');
  controlPlaneAddresses(controlPlane);
  if (advertise !== undefined) advertiseAddress(advertise);
  const drain = str('drain-timeout');
  const drainTimeoutMs = drain === undefined ? SIDECAR_DEFAULTS.drainTimeoutMs : parseDuration(drain);
  if (drainTimeoutMs === undefined) throw new UsageError(`--drain-timeout must be a duration such as 10s or 500ms, got ${JSON.stringify(drain)}`);
  const bodyIdle = str('body-idle-timeout');
  const bodyIdleTimeoutMs = bodyIdle === undefined ? undefined : parseDuration(bodyIdle);
  if (bodyIdle !== undefined && bodyIdleTimeoutMs === undefined) throw new UsageError(`--body-idle-timeout must be a duration such as 30s or 0s, got ${JSON.stringify(bodyIdle)}`);
  const quiet = str('drain-quiet');
  const drainQuietMs = quiet === undefined ? undefined : parseDuration(quiet);
  if (quiet !== undefined && drainQuietMs === undefined) throw new UsageError(`--drain-quiet must be a duration such as 1s or 500ms, got ${JSON.stringify(quiet)}`);
  const releaseIdle = str('memory-release-idle');
  const memoryReleaseIdleMs = releaseIdle === undefined ? undefined : parseDuration(releaseIdle);
  if (releaseIdle !== undefined && memoryReleaseIdleMs === undefined) throw new UsageError(`--memory-release-idle must be a duration such as 5s or 0s, got ${JSON.stringify(releaseIdle)}`);
  const labels = parseLabels(str('labels'));
  const appProtocol = oneOf<AppProtocol>(str('app-protocol'), ['auto', 'http1', 'h2c', 'tcp'], 'app-protocol');
  const http1Upstream = oneOf<Http1Upstream>(str('http1-upstream'), ['http1', 'h2'], 'http1-upstream');
  const tcpForwards = parseTcpForwards(values['tcp-forward']);
  const consulRegister = parseConsulRegister(str('consul-register'), str('consul-token-file'), str('consul-check-interval'));
  const otlpClient = readOtlpClient(
    { caFile: str('otlp-ca-file'), certFile: str('otlp-cert-file'), keyFile: str('otlp-key-file'), headersFile: str('otlp-headers-file') },
    (file) => readFileSync(file),
  );
  const options: SidecarOptions = {
    service,
    namespace,
    appPort,
    appHost: str('app-host') ?? SIDECAR_DEFAULTS.appHost,
    controlPlane,
    token: readToken(str('token'), str('token-file'), env['WEFT_TOKEN']),
    labels,
    inboundPort: port('inbound-port', SIDECAR_DEFAULTS.inboundPort),
    outboundPort: port('outbound-port', SIDECAR_DEFAULTS.outboundPort),
    adminPort: port('admin-port', SIDECAR_DEFAULTS.adminPort),
    bindInbound: str('bind-inbound') ?? SIDECAR_DEFAULTS.bindInbound,
    bindAdmin: str('bind-admin') ?? SIDECAR_DEFAULTS.bindAdmin,
    drainTimeoutMs,
    ...(bodyIdleTimeoutMs !== undefined ? { bodyIdleTimeoutMs } : {}),
    ...(drainQuietMs !== undefined ? { drainQuietMs } : {}),
    ...(memoryReleaseIdleMs !== undefined ? { memoryReleaseIdleMs } : {}),
    ...(values['admin-remote-config'] === true ? { adminRemoteConfig: true } : {}),
    ...(advertise ? { advertiseAddress: advertise } : {}),
    ...(appProtocol ? { appProtocol } : {}),
    ...(http1Upstream ? { http1Upstream } : {}),
    ...(tcpForwards.length > 0 ? { tcpForwards } : {}),
    ...(values['dns-port'] !== undefined ? { dnsPort: port('dns-port', 0) } : {}),
    ...(consulRegister ? { consulRegister } : {}),
    ...(otlpClient ? { otlpClient } : {}),
  };
  return { help: false, options };
}

/** `--consul-register HOST:PORT` with its token file and check interval; those two only come with it. */
function parseConsulRegister(address: string | undefined, tokenFile: string | undefined, interval: string | undefined): ConsulRegisterOptions | undefined {
  if (address === undefined) {
    if (tokenFile !== undefined || interval !== undefined) throw new UsageError(`--${tokenFile !== undefined ? 'consul-token-file' : 'consul-check-interval'} needs --consul-register HOST:PORT`);
    return undefined;
  }
  consulAgent(address);
  const checkIntervalMs = interval === undefined ? undefined : parseDuration(interval);
  if (interval !== undefined && (checkIntervalMs === undefined || checkIntervalMs < 1_000)) throw new UsageError(`--consul-check-interval must be a duration of at least 1s, got ${JSON.stringify(interval)}`);
  let token: string | undefined;
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--consul-token-file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return { address, ...(token ? { token } : {}), ...(checkIntervalMs !== undefined ? { checkIntervalMs } : {}) };
}

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(value)}`);
}

function parseTcpForwards(values: string | boolean | string[] | undefined): TcpForward[] {
  const forwards = (Array.isArray(values) ? values : []).map((text) => {
    const parsed = parseTcpForward(text);
    if (typeof parsed === 'string') throw new UsageError(parsed);
    return parsed;
  });
  const ports = new Set<number>();
  for (const f of forwards) {
    if (ports.has(f.localPort)) throw new UsageError(`--tcp-forward: local port ${f.localPort} is given twice`);
    ports.add(f.localPort);
  }
  return forwards;
}

function readToken(flag: string | undefined, file: string | undefined, fromEnv: string | undefined): string {
  if (flag !== undefined && file !== undefined) throw new UsageError('give the join token once: --token or --token-file, not both');
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const token = flag ?? fromEnv?.trim();
  if (!token) throw new UsageError('a join token is required: --token, --token-file or $WEFT_TOKEN (create one with `weftctl token create --service S`)');
  return token;
}

function parseLabels(text: string | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (!/^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$/.test(key)) throw new UsageError(`--labels: ${JSON.stringify(pair)} is not key=value with a valid key`);
    labels[key] = pair.slice(eq + 1).trim();
  }
  return labels;
}

/** What startSidecar runs with: the options checked, every default filled in, addresses parsed. */
export type ResolvedOptions = SidecarOptions & Required<Pick<SidecarOptions,
  'namespace' | 'appHost' | 'outboundPort' | 'inboundPort' | 'adminPort' | 'bindInbound' | 'bindAdmin' | 'drainTimeoutMs' | 'drainQuietMs' | 'bodyIdleTimeoutMs' | 'memoryReleaseIdleMs'>> & {
  readonly addresses: ControlPlaneAddresses;
  /** The announced inbound address; port undefined: the inbound listener's. */
  readonly advertise: { readonly host: string; readonly port: number | undefined };
  readonly consulAgent: HostPort | undefined;
};

/**
 * The embedder's side of the same checks parseFlags makes (names, addresses), with the same
 * UsageError naming the flag the option stands for, and SIDECAR_DEFAULTS for what is left out.
 */
export function resolveOptions(options: SidecarOptions): ResolvedOptions {
  const d = SIDECAR_DEFAULTS;
  const namespace = options.namespace ?? d.namespace;
  checkName('service', options.service);
  checkName('namespace', namespace);
  const advertise = options.advertiseAddress === undefined ? undefined : advertiseAddress(options.advertiseAddress);
  return {
    ...options,
    namespace,
    appHost: options.appHost ?? d.appHost,
    outboundPort: options.outboundPort ?? d.outboundPort,
    inboundPort: options.inboundPort ?? d.inboundPort,
    adminPort: options.adminPort ?? d.adminPort,
    bindInbound: options.bindInbound ?? d.bindInbound,
    bindAdmin: options.bindAdmin ?? d.bindAdmin,
    drainTimeoutMs: options.drainTimeoutMs ?? d.drainTimeoutMs,
    drainQuietMs: options.drainQuietMs ?? d.drainQuietMs,
    bodyIdleTimeoutMs: options.bodyIdleTimeoutMs ?? d.bodyIdleTimeoutMs,
    memoryReleaseIdleMs: options.memoryReleaseIdleMs ?? d.memoryReleaseIdleMs,
    addresses: controlPlaneAddresses(options.controlPlane),
    advertise: { host: advertise?.host ?? d.advertiseHost, port: advertise?.port },
    consulAgent: options.consulRegister ? consulAgent(options.consulRegister.address) : undefined,
  };
}

function checkName(flag: 'service' | 'namespace', name: string): void {
  if (!NAME_RE.test(name)) throw new UsageError(`--${flag} ${JSON.stringify(name)} must be a DNS label: lower-case letters, digits and '-'`);
}

function controlPlaneAddresses(text: string): ControlPlaneAddresses {
  return asUsageError(() => ControlPlaneAddresses.parse(text, '--control-plane'));
}

function advertiseAddress(text: string): { readonly host: string; readonly port: number | undefined } {
  return asUsageError(() => parseHostMaybePort(text, '--advertise-address'));
}

function consulAgent(text: string): HostPort {
  return asUsageError(() => parseHostPort(text, '--consul-register'));
}

/** The address parsers name the flag they were given; their error becomes the flags' one. */
function asUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** 10000 -> "10s", for the help text. */
function seconds(ms: number): string {
  return `${ms / 1000}s`;
}
