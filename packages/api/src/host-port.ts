import { isIP } from 'node:net';

export interface HostPort {
  /** IPv6 without brackets; empty means every interface (only with `allowAnyHost`). */
  readonly host: string;
  readonly port: number;
}

export interface ParseHostPortOptions {
  /** Accept `:PORT` (host ''), for bind addresses. */
  readonly allowAnyHost?: boolean;
  /** Accept port 0 (the OS picks one), for bind addresses. */
  readonly allowPortZero?: boolean;
}

const HOST_RE = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;

/**
 * Parses `HOST:PORT` or `[v6]:PORT` (HOST an IPv4 address or a DNS name). The port is required:
 * guessing one would hide a typo until the first connection failed. Returns undefined for
 * anything else, so that each caller words the error (and picks its code) for its own context.
 */
export function parseHostPort(text: string, options: ParseHostPortOptions = {}): HostPort | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!m) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port > 65535 || (port === 0 && !options.allowPortZero)) return undefined;
  if (host === '') return options.allowAnyHost ? { host, port } : undefined;
  if (m[1] !== undefined ? isIP(host) !== 6 : !(isIP(host) === 4 || HOST_RE.test(host))) return undefined;
  return { host, port };
}

/** The form gRPC targets, bind calls and log lines use (IPv6 in brackets). */
export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
