import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { parseDuration } from '@weft/api';
import { ControlPlaneError } from './errors';
import { parseHostPort } from '@weft/api';
import type { OperatorCaFiles } from './ca/byo-ca';
import { DEFAULTS, type ControlPlaneOptions } from './options';
import type { RegistryOption } from './registry/registry-source';
import { DEFAULT_ETCD_PREFIX, type EtcdStoreOptions } from './store/etcd-client';

export const USAGE = `Usage: weft-control-plane --data-dir DIR [flags]

The Weft control plane: mesh CA, policy store, service registry, discovery and admin API.

Flags:
  --data-dir DIR             where the CA, store, tokens and registry live (required; created 0700)
  --listen HOST:PORT         gRPC over TLS: Identity, Discovery, Admin (default ${DEFAULTS.listen};
                             :PORT = every interface, port 0 = any free port)
  --http HOST:PORT           HTTP /live, /ready, /metrics (default ${DEFAULTS.http})
  --trust-domain NAME        trust domain, used at first start only (default ${DEFAULTS.trustDomain})
  --endpoint-grace DURATION  how long an endpoint outlives its sidecar's stream, and how long a
                             restarted control plane waits for sidecars to re-announce (default ${DEFAULTS.endpointGrace})
  --push-debounce DURATION   how long changes are gathered before a push (default ${DEFAULTS.pushDebounce})
  --endpoint-verification tls|off
                             tls (default): publish an announced sidecar address only after a TLS
                             dial there met the announcing proxy's identity; off: publish as
                             announced (only where the control plane cannot reach its workloads)
  --registry sidecars|consul where endpoints come from: sidecars (default) announce their own;
                             consul also follows Consul's catalog (blocking queries), merged with
                             the announcements (see docs/consul.md)
  --consul-addr HOST:PORT    a Consul agent's HTTP API (required with --registry consul)
  --consul-token-file F      file holding the Consul ACL token (needs service:read, node:read)
  --consul-datacenter DC     the datacenter to read (default: the agent's own)
  --san NAME                 extra DNS name or IP address for the serving certificate (repeatable)
  --advertise HOST:PORT      endpoint written into <data-dir>/weftctl.json
                             (default 127.0.0.1:<bound gRPC port>)
  --ca-cert FILE             bring your own CA (first start only): the PEM certificate that signs
                             workload certificates, a root or an intermediate
  --ca-key FILE              its PEM private key (ECDSA P-256 or RSA >= 2048, unencrypted); required with --ca-cert
  --ca-chain FILE            PEM certificates from above --ca-cert up to the root, in order; served
                             in every certificate chain
  --root-cert FILE           the root workloads trust (default: the end of --ca-chain, or --ca-cert
                             when it is self-signed)
  --store file|etcd          where resources, join tokens and the CA live: file (default, in
                             --data-dir) or etcd, shared by several replicas (docs/ha.md)
  --etcd-endpoints URL,...   etcd client URLs (http:// or https://), required with --store etcd
  --etcd-prefix PREFIX       every key Weft writes starts with it (default ${DEFAULT_ETCD_PREFIX})
  --etcd-ca FILE             CA certificate of the etcd cluster (https endpoints)
  --etcd-cert FILE           client certificate for etcd, with --etcd-key FILE
  --etcd-encryption-key-file FILE
                             256-bit key (64 hex digits or base64 of 32 bytes) that encrypts the
                             CA private key in etcd; or set WEFT_ETCD_ENCRYPTION_KEY. Required with
                             --store etcd, the same on every replica
  -h, --help                 show this help
  --version                  print the version and exit

Durations look like 250ms, 2s, 1m. On start the control plane logs a JSON line with
msg "ready" and the bound grpcPort and httpPort on stderr. SIGTERM or SIGINT stop it gracefully.
`;

export type ParsedFlags =
  | { readonly help: true }
  | { readonly help: false; readonly version: true }
  | { readonly help: false; readonly version?: false; readonly options: ControlPlaneOptions };

const TRUST_DOMAIN_RE = /^[a-z0-9.\-_]+$/;
const DNS_NAME_RE = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/** Parses and checks every flag; throws ControlPlaneError (WEFT_ERR_BAD_FLAG) naming the flag. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'data-dir': { type: 'string' },
        listen: { type: 'string', default: DEFAULTS.listen },
        http: { type: 'string', default: DEFAULTS.http },
        'trust-domain': { type: 'string', default: DEFAULTS.trustDomain },
        'endpoint-grace': { type: 'string', default: DEFAULTS.endpointGrace },
        'push-debounce': { type: 'string', default: DEFAULTS.pushDebounce },
        'endpoint-verification': { type: 'string', default: 'tls' },
        san: { type: 'string', multiple: true, default: [] },
        registry: { type: 'string', default: 'sidecars' },
        'consul-addr': { type: 'string' },
        'consul-token-file': { type: 'string' },
        'consul-datacenter': { type: 'string' },
        advertise: { type: 'string' },
        'ca-cert': { type: 'string' },
        'ca-key': { type: 'string' },
        'ca-chain': { type: 'string' },
        'root-cert': { type: 'string' },
        store: { type: 'string', default: 'file' },
        'etcd-endpoints': { type: 'string' },
        'etcd-prefix': { type: 'string', default: DEFAULT_ETCD_PREFIX },
        'etcd-ca': { type: 'string' },
        'etcd-cert': { type: 'string' },
        'etcd-key': { type: 'string' },
        'etcd-encryption-key-file': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    throw bad((err as Error).message);
  }
  if (values['help'] === true) return { help: true };
  if (values['version'] === true) return { help: false, version: true };
  const str = (name: string): string => values[name] as string;

  const dataDir = values['data-dir'];
  if (typeof dataDir !== 'string' || dataDir.trim() === '') throw bad('--data-dir is required');
  for (const flag of ['listen', 'http']) {
    if (!parseHostPort(str(flag), { allowAnyHost: true, allowPortZero: true })) {
      throw bad(`--${flag} ${JSON.stringify(str(flag))} is not HOST:PORT (for example 0.0.0.0:15012, :15012 or 127.0.0.1:0)`);
    }
  }
  const trustDomain = str('trust-domain');
  if (!TRUST_DOMAIN_RE.test(trustDomain)) throw bad(`--trust-domain ${JSON.stringify(trustDomain)} must be lower-case letters, digits, ".", "-" or "_" (for example weft.local)`);
  const advertise = values['advertise'];
  if (typeof advertise === 'string' && !parseHostPort(advertise)) {
    throw bad(`--advertise ${JSON.stringify(advertise)} is not HOST:PORT with a host and a non-zero port (for example cp.example.com:15012)`);
  }
  const sans = values['san'] as string[];
  for (const san of sans) {
    if (!isIP(san.replace(/^\[(.*)\]$/, '$1')) && !DNS_NAME_RE.test(san)) throw bad(`--san ${JSON.stringify(san)} is neither a DNS name nor an IP address`);
  }
  const verification = str('endpoint-verification');
  if (verification !== 'tls' && verification !== 'off') throw bad(`--endpoint-verification ${JSON.stringify(verification)} must be tls or off`);
  const ca = caFiles(values);
  const registry = registryOption(values);
  const store = storeOptions(values);
  return {
    help: false,
    options: {
      dataDir,
      listen: str('listen'),
      http: str('http'),
      trustDomain,
      endpointGraceMs: duration('endpoint-grace', str('endpoint-grace')),
      pushDebounceMs: duration('push-debounce', str('push-debounce')),
      sans,
      ...(typeof advertise === 'string' ? { advertise } : {}),
      ...(ca ? { ca } : {}),
      ...(verification === 'off' ? { verifyAddress: 'off' as const } : {}),
      ...(registry ? { registry } : {}),
      ...(store ? { store } : {}),
    },
  };
}

/** `--ca-cert` and `--ca-key` come together; `--ca-chain` and `--root-cert` only with them. */
function caFiles(values: Record<string, string | boolean | string[] | undefined>): OperatorCaFiles | undefined {
  const file = (name: string): string | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v.trim() === '') throw bad(`--${name} needs a file name`);
    return v;
  };
  const [certFile, keyFile, chainFile, rootFile] = ['ca-cert', 'ca-key', 'ca-chain', 'root-cert'].map(file);
  if (!certFile) {
    const stray = keyFile ? '--ca-key' : chainFile ? '--ca-chain' : rootFile ? '--root-cert' : undefined;
    if (stray) throw bad(`${stray} needs --ca-cert FILE (the CA certificate that signs workload certificates)`);
    return undefined;
  }
  if (!keyFile) throw bad('--ca-cert needs --ca-key FILE (the private key of that CA certificate)');
  return { certFile, keyFile, ...(chainFile ? { chainFile } : {}), ...(rootFile ? { rootFile } : {}) };
}

/** `--registry consul` needs `--consul-addr`; the other `--consul-*` flags only come with it. */
function registryOption(values: Record<string, string | boolean | string[] | undefined>): RegistryOption | undefined {
  const kind = values['registry'];
  const text = (name: string): string | undefined => {
    const v = values[name];
    if (v !== undefined && (typeof v !== 'string' || v.trim() === '')) throw bad(`--${name} needs a value`);
    return typeof v === 'string' ? v.trim() : undefined;
  };
  const [addr, tokenFile, datacenter] = ['consul-addr', 'consul-token-file', 'consul-datacenter'].map(text);
  if (kind === 'sidecars') {
    const stray = addr ? '--consul-addr' : tokenFile ? '--consul-token-file' : datacenter ? '--consul-datacenter' : undefined;
    if (stray) throw bad(`${stray} needs --registry consul`);
    return undefined;
  }
  if (kind !== 'consul') throw bad(`--registry ${JSON.stringify(kind)} must be sidecars or consul`);
  if (!addr) throw bad('--registry consul needs --consul-addr HOST:PORT (a Consul agent\'s HTTP API, for example 127.0.0.1:8500)');
  if (!parseHostPort(addr)) throw bad(`--consul-addr ${JSON.stringify(addr)} is not HOST:PORT (for example 127.0.0.1:8500)`);
  return { kind: 'consul', address: addr, ...(tokenFile ? { tokenFile } : {}), ...(datacenter ? { datacenter } : {}) };
}

/** `--store etcd` and its flags; the etcd flags are refused without it, so a typo is not ignored. */
function storeOptions(values: Record<string, string | boolean | string[] | undefined>): EtcdStoreOptions | undefined {
  const text = (name: string): string | undefined => (typeof values[name] === 'string' && values[name] !== '' ? (values[name] as string) : undefined);
  const kind = text('store');
  const etcdFlags = ['etcd-endpoints', 'etcd-ca', 'etcd-cert', 'etcd-key', 'etcd-encryption-key-file'];
  if (kind === 'file') {
    const stray = etcdFlags.find((f) => text(f) !== undefined);
    if (stray) throw bad(`--${stray} needs --store etcd`);
    return undefined;
  }
  if (kind !== 'etcd') throw bad(`--store ${JSON.stringify(kind ?? '')} must be file or etcd`);
  const list = text('etcd-endpoints');
  if (!list) throw bad('--store etcd needs --etcd-endpoints URL,... (for example http://10.0.0.1:2379,http://10.0.0.2:2379)');
  const endpoints = list.split(',').map((e) => e.trim()).filter((e) => e !== '');
  for (const e of endpoints) {
    if (!/^https?:\/\/[^/]+:\d+\/?$/.test(e)) throw bad(`--etcd-endpoints: ${JSON.stringify(e)} is not http://HOST:PORT or https://HOST:PORT`);
  }
  const prefix = text('etcd-prefix') ?? DEFAULT_ETCD_PREFIX;
  if (!prefix.startsWith('/')) throw bad(`--etcd-prefix ${JSON.stringify(prefix)} must start with / (for example /weft)`);
  if (text('etcd-cert') !== undefined && text('etcd-key') === undefined) throw bad('--etcd-cert needs --etcd-key FILE');
  if (text('etcd-key') !== undefined && text('etcd-cert') === undefined) throw bad('--etcd-key needs --etcd-cert FILE');
  const file = (flag: string, field: keyof EtcdStoreOptions): Partial<EtcdStoreOptions> => (text(flag) ? { [field]: text(flag) } : {});
  return {
    kind: 'etcd',
    endpoints,
    prefix: prefix.replace(/\/+$/, ''),
    ...file('etcd-ca', 'caFile'),
    ...file('etcd-cert', 'certFile'),
    ...file('etcd-key', 'keyFile'),
    ...file('etcd-encryption-key-file', 'encryptionKeyFile'),
  };
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw bad(`--${flag} ${JSON.stringify(text)} is not a duration such as 250ms, 2s or 1m`);
  return ms;
}

function bad(message: string): ControlPlaneError {
  return new ControlPlaneError('WEFT_ERR_BAD_FLAG', message);
}
