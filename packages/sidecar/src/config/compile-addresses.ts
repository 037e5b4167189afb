import { isIPv4 } from 'node:net';
import type { WireServiceEndpoints } from '@weft/api';
import type { CompiledService } from './types';

/** Where a destination's apps listen, as captured connections and the DNS responder see them. */
export interface AddressTables {
  /** `host:appPort` of every endpoint that announced its app port -> its service. */
  readonly byAddress: ReadonlyMap<string, CompiledService>;
  /** An endpoint host that belongs to exactly one service -> it (so `Host: 10.0.0.7:8080` routes). */
  readonly byHost: ReadonlyMap<string, CompiledService>;
  /** Service key -> the IPv4 hosts of its ready endpoints with an app port (DNS A records). */
  readonly hosts: ReadonlyMap<string, readonly string[]>;
}

/**
 * Indexes the hosts and app ports sidecars announced (Node.app_port). A host two services share
 * (two apps on one VM) is left out of `byHost`: only HOST:PORT tells them apart.
 */
export function compileAddresses(wire: readonly WireServiceEndpoints[], services: ReadonlyMap<string, CompiledService>, keyOf: (w: WireServiceEndpoints) => string): AddressTables {
  const byAddress = new Map<string, CompiledService>();
  const hostOwners = new Map<string, Set<CompiledService>>();
  const hosts = new Map<string, readonly string[]>();
  for (const w of wire) {
    const service = services.get(keyOf(w));
    if (!service) continue;
    const ready = new Set<string>();
    for (const e of w.endpoints) {
      const host = hostOf(e.address);
      const appPort = e.appPort ?? 0;
      if (host === undefined || appPort <= 0) continue;
      byAddress.set(`${host}:${appPort}`, service);
      let owners = hostOwners.get(host);
      if (!owners) hostOwners.set(host, (owners = new Set()));
      owners.add(service);
      if (e.ready && isIPv4(host)) ready.add(host);
    }
    hosts.set(service.key, Object.freeze([...ready].sort()));
  }
  const byHost = new Map<string, CompiledService>();
  for (const [host, owners] of hostOwners) if (owners.size === 1) byHost.set(host, [...owners][0] as CompiledService);
  return { byAddress, byHost, hosts };
}

/** The host of `host:port` or `[v6]:port`, without brackets. */
function hostOf(address: string): string | undefined {
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const host = address.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
