import { WeftError } from '@weft/api';

/**
 * How this sidecar talks to its OTLP collector beyond the endpoint MeshConfig names: TLS (a CA
 * to verify the collector, a client certificate) and request headers such as a hosted backend's
 * API key. These come from files on the sidecar host (`--otlp-*-file`), never from MeshConfig,
 * which reaches every sidecar and shows in /config: the values are secrets of this host.
 */
export interface OtlpClientSettings {
  /** PEM roots the collector's certificate must chain to; set: the export runs over TLS. */
  readonly caPem?: Buffer;
  /** Client certificate chain and key (PEM), for a collector that requires one; both or neither. */
  readonly certPem?: Buffer;
  readonly keyPem?: Buffer;
  /** gRPC metadata sent with every export, names lower-case. Never logged, never shown. */
  readonly headers: readonly (readonly [string, string])[];
}

/** The files the flags name; each absent one is simply not used. */
export interface OtlpClientFiles {
  readonly caFile?: string | undefined;
  readonly certFile?: string | undefined;
  readonly keyFile?: string | undefined;
  readonly headersFile?: string | undefined;
}

/** A flag naming a file the sidecar cannot use; exit code 2 like every bad flag. */
export class OtlpClientFileError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_BAD_FLAG', message);
  }
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** What the exporter or gRPC sets itself: a file may not replace them. */
const RESERVED = new Set(['content-type', 'te', 'user-agent', 'grpc-encoding', 'grpc-accept-encoding', 'grpc-timeout', 'host']);

/**
 * Reads the files once, at start-up. Errors name the flag, the file and the line, never a value
 * (the file is full of secrets). A certificate file without its key, or the other way round, is
 * refused; a client certificate without a CA file is verified against Node's public roots.
 */
export function readOtlpClient(files: OtlpClientFiles, readFile: (path: string) => Buffer): OtlpClientSettings | undefined {
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) {
    throw new OtlpClientFileError('--otlp-cert-file and --otlp-key-file go together: give both, or neither');
  }
  const read = (flag: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFile(path);
    } catch (err) {
      throw new OtlpClientFileError(`--${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const caPem = read('otlp-ca-file', files.caFile);
  const certPem = read('otlp-cert-file', files.certFile);
  const keyPem = read('otlp-key-file', files.keyFile);
  const headersText = read('otlp-headers-file', files.headersFile);
  const headers = headersText === undefined ? [] : parseHeaders(headersText.toString('utf8'), files.headersFile ?? '');
  if (!caPem && !certPem && headers.length === 0) return undefined;
  return { ...(caPem ? { caPem } : {}), ...(certPem ? { certPem } : {}), ...(keyPem ? { keyPem } : {}), headers };
}

/** `name: value` per line; blank lines and lines starting with `#` are skipped. */
export function parseHeaders(text: string, file: string): (readonly [string, string])[] {
  const headers: (readonly [string, string])[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = `--otlp-headers-file ${file}: line ${i + 1}`;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new OtlpClientFileError(`${at}: expected "name: value"`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name) || name.endsWith('-bin')) throw new OtlpClientFileError(`${at}: "${name}" is not a header name (letters, digits and - . _ ~ ..., not ending in -bin)`);
    if (RESERVED.has(name) || name.startsWith(':') || name.startsWith('grpc-')) throw new OtlpClientFileError(`${at}: "${name}" is set by the exporter itself`);
    // Only the line number: the value is the secret this file exists to hold.
    if (value === '' || /[^\t\x20-\x7e]/.test(value)) throw new OtlpClientFileError(`${at}: the value of "${name}" must be non-empty printable ASCII`);
    headers.push([name, value] as const);
  });
  return headers;
}

/** What may be logged about the settings: whether TLS is on, and header names without values. */
export function describeOtlpClient(settings: OtlpClientSettings | undefined): { readonly tls: boolean; readonly clientCertificate: boolean; readonly headers: readonly string[] } {
  return {
    tls: settings?.caPem !== undefined || settings?.certPem !== undefined,
    clientCertificate: settings?.certPem !== undefined,
    headers: (settings?.headers ?? []).map(([name]) => name),
  };
}
