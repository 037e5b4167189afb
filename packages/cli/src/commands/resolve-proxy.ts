import type { ProxyStatus } from '@weft/api';
import type { AdminApi } from '../admin-client';
import { CliError } from '../errors';
import { proxyName, shortProxyId } from '../views/proxy-table';

/**
 * The one proxy `given` names: its full id, a unique prefix of it (proxy-status shows 8
 * characters), or `service.namespace` (or `service`, in namespace default) when that service has
 * exactly one proxy. Connected proxies are preferred over ones recently gone of the same name.
 */
export async function resolveProxy(api: AdminApi, given: string): Promise<ProxyStatus> {
  const proxies = (await api.listProxies()).proxies;
  const exact = proxies.find((p) => p.proxyId === given);
  if (exact) return exact;
  const name = given.includes('.') ? given : `${given}.default`;
  const named = proxies.filter((p) => proxyName(p) === name);
  const candidates = named.length > 0 ? named : proxies.filter((p) => given.length >= 4 && p.proxyId.startsWith(given));
  const connected = candidates.filter((p) => p.connected);
  const pick = connected.length > 0 ? connected : candidates;
  if (pick.length === 1) return pick[0] as ProxyStatus;
  if (pick.length === 0) {
    throw new CliError('WEFT_ERR_NOT_FOUND', `no proxy is named "${given}": give a proxy id (or a prefix of at least 4 characters) or SERVICE.NAMESPACE, as weftctl proxy-status lists them`);
  }
  throw new CliError('WEFT_ERR_AMBIGUOUS', `${pick.length} proxies match "${given}" (${pick.map((p) => `${proxyName(p)} ${shortProxyId(p.proxyId)}`).join(', ')}): give the proxy id`);
}
