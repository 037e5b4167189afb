import { BlockList } from 'node:net';

/**
 * Who may read an admin page: `anyone` who reaches the port (probes, Prometheus), or `loopback`
 * callers only, for pages that show how the mesh is put together (`/config`) and any future page
 * that controls the sidecar. As Envoy's admin in Istio and Linkerd's admin endpoints do.
 */
export type Audience = 'anyone' | 'loopback';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether a connection's remote address is this host's loopback: 127.0.0.0/8 or ::1, also as
 * an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, what a dual-stack listener reports). Anything
 * else, this host's own non-loopback addresses and an unknown address included, is not.
 */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return LOOPBACK.check(address, address.includes(':') ? 'ipv6' : 'ipv4');
}

/** Why this caller may not read the page (the body of a 403), or undefined when it may. */
export function refusal(path: string, audience: Audience, remoteAddress: string | undefined, remoteAllowed: boolean): string | undefined {
  if (audience === 'anyone' || remoteAllowed || isLoopback(remoteAddress)) return undefined;
  return (
    `${path} answers only callers on this host's loopback, since it shows the mesh's topology and policies ` +
    `(this request came from ${remoteAddress ?? 'an unknown address'}): read it on this host through 127.0.0.1, ` +
    `or start the sidecar with --admin-remote-config to serve it to everyone who reaches this port\n`
  );
}
