import { isIP } from 'node:net';

export interface HostPort {
  /** Empty means every interface. IPv6 without brackets. */
  readonly host: string;
  readonly port: number;
}

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * Parses `HOST:PORT`, `[v6]:PORT` or `:PORT` (every interface). Returns undefined for anything
 * else, so that each caller can word the error for its own context.
 */
export function parseHostPort(text: string, options: { readonly allowAnyHost?: boolean; readonly allowPortZero?: boolean } = {}): HostPort | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535 || (port === 0 && !options.allowPortZero)) return undefined;
  if (host === '') return options.allowAnyHost ? { host, port } : undefined;
  if (m[1] !== undefined ? isIP(host) !== 6 : !(isIP(host) === 4 || HOST_RE.test(host))) return undefined;
  return { host, port };
}

export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Where to bind: an empty host means every interface. */
export function bindHost(host: string): string {
  return host === '' ? '0.0.0.0' : host;
}
