import { ControlError } from './errors';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port`, `[v6]:port`. The port is required: guessing one would hide a typo in a
 * flag until the first connection failed.
 */
export function parseHostPort(text: string, what = 'address'): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  const host = m ? (m[1] ?? m[2]) : undefined;
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ControlError('WEFT_ERR_BAD_ADDRESS', `${what} must be HOST:PORT with a port from 1 to 65535 (got ${JSON.stringify(text)})`);
  }
  return { host, port };
}

/** The form gRPC targets and log lines use (IPv6 in brackets). */
export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
