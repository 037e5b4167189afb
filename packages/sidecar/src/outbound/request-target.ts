import { BadRequestError } from '../layers/errors';

/** Where an app's request is going, read from its request line and Host header. */
export interface RequestTarget {
  /** Lower-case host without port or trailing dot: the authority table's key. */
  readonly authority: string;
  /** The Host header to send upstream (with the port if the app gave one). */
  readonly host: string;
  /** Origin-form path and query. */
  readonly target: string;
  /** Path alone, for route matching. */
  readonly path: string;
}

const HOST_RE = /^(?:\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::\d{1,5})?$/;

/**
 * Accepts the two ways an app reaches the outbound listener: origin form with `Host: <service>`
 * (`GET /items` + `Host: orders`), and absolute form as an HTTP proxy (`GET http://orders/items`,
 * what `http_proxy` produces). In absolute form the URI's authority wins over Host (RFC 9112 3.2.2).
 */
export function parseRequestTarget(url: string | undefined, hostHeader: string | undefined): RequestTarget {
  if (url === undefined || url === '') throw new BadRequestError('the request has no target');
  if (url.startsWith('/')) {
    if (hostHeader === undefined || hostHeader === '') {
      throw new BadRequestError('the request has no Host header: send Host: <service> (or use the sidecar as http_proxy)');
    }
    return targetOf(hostOf(hostHeader), url);
  }
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'https') {
    throw new BadRequestError('https:// through the sidecar is not supported: call http://<service>; the sidecar encrypts the hop with mTLS');
  }
  if (scheme !== 'http') throw new BadRequestError(`unsupported request target "${truncate(url)}": use a path with a Host header, or http://<service>/path`);
  const rest = url.slice('http://'.length);
  const slash = rest.search(/[/?#]/);
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  if (authority.includes('@')) throw new BadRequestError('credentials in the request URI are not supported');
  const pathPart = slash < 0 ? '/' : rest.slice(slash);
  return targetOf(splitHost(authority), pathPart.startsWith('/') ? pathPart : `/${pathPart}`);
}

interface HostParts {
  readonly authority: string;
  readonly host: string;
}

/**
 * Host headers checked before, by their raw value: an app calls a handful of services, so the
 * check (a regex) and the lower-casing run once per name, not per request. Bounded: a caller
 * that sends many names only refills it.
 */
const knownHosts = new Map<string, HostParts>();
const KNOWN_HOSTS_MAX = 1024;

function hostOf(raw: string): HostParts {
  let parts = knownHosts.get(raw);
  if (parts === undefined) {
    parts = splitHost(raw); // throws on an invalid name, which is never kept
    if (knownHosts.size >= KNOWN_HOSTS_MAX) knownHosts.clear();
    knownHosts.set(raw, parts);
  }
  return parts;
}

/** One object literal, not spreads of two parts (a spread that adds keys is slow on Node.js 20). */
function targetOf(host: HostParts, target: string): RequestTarget {
  const hash = target.indexOf('#'); // fragments are never sent; drop one if an app did
  const clean = hash < 0 ? target : target.slice(0, hash);
  const q = clean.indexOf('?');
  return { authority: host.authority, host: host.host, target: clean, path: q < 0 ? clean : clean.slice(0, q) };
}

function splitHost(raw: string): HostParts {
  const host = raw.trim().toLowerCase();
  if (!HOST_RE.test(host)) throw new BadRequestError(`invalid host "${truncate(raw)}": expected <service>[.<namespace>][:port]`);
  const colon = host.lastIndexOf(':');
  const bracket = host.lastIndexOf(']');
  let name = colon > bracket ? host.slice(0, colon) : host;
  if (name.endsWith('.')) name = name.slice(0, -1); // a fully qualified name may end in a dot
  return { authority: name, host };
}

function truncate(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
}
