import { isIP } from 'node:net';
import { parseHostPort as parseAddress, type HostPort } from '@weft/api';
import { ControlError } from './errors';

export { formatHostPort, type HostPort } from '@weft/api';

/**
 * Parses `host:port`, `[v6]:port` (the one parser, in @weft/api), raising the sidecar's
 * WEFT_ERR_BAD_ADDRESS that names `what` when the text is not one.
 */
export function parseHostPort(text: string, what = 'address'): HostPort {
  const parsed = parseAddress(text);
  if (!parsed) throw new ControlError('WEFT_ERR_BAD_ADDRESS', `${what} must be HOST:PORT with a port from 1 to 65535 (got ${JSON.stringify(text)})`);
  return parsed;
}

/** A DNS name: dot-separated labels of letters, digits and inner hyphens, not all digits (that would be a bad IPv4). */
const HOSTNAME_RE = /^(?=.{1,253}$)(?![\d.]+$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/**
 * An address whose port may be left out (`--advertise-address`): HOST:PORT and [v6]:PORT as
 * parseHostPort reads them, or a bare host (IPv4, an IPv6 literal with or without brackets, a DNS
 * name) with port undefined, for the caller to fill in. An IPv6 literal with a port needs its
 * brackets: `fe80::1:8080` is read as a bare IPv6 address.
 */
export function parseHostMaybePort(text: string, what = 'address'): { readonly host: string; readonly port: number | undefined } {
  const trimmed = text.trim();
  const bare = /^\[([0-9a-fA-F:.]+)\]$/.exec(trimmed)?.[1] ?? trimmed;
  if (isIP(bare) !== 0 || HOSTNAME_RE.test(bare)) return { host: bare, port: undefined };
  const bad = (): ControlError =>
    new ControlError('WEFT_ERR_BAD_ADDRESS', `${what} must be HOST or HOST:PORT (a port from 1 to 65535; an IPv6 address with a port in brackets, [::1]:15006), got ${JSON.stringify(text)}`);
  let parsed: HostPort;
  try {
    parsed = parseHostPort(trimmed, what);
  } catch {
    throw bad();
  }
  if (isIP(parsed.host) === 0 && !HOSTNAME_RE.test(parsed.host)) throw bad();
  return parsed;
}
