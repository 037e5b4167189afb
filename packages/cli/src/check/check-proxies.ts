import type { ProxyStatus } from '@weft/api';
import { relativeTime, truncate } from '../output/format';
import { deriveProxyStatus } from '../proxy-sync-status';
import { proxyName, shortProxyId } from '../views/proxy-table';
import type { CheckResult } from './check-result';

const GROUP = 'proxies';
const NACK_WIDTH = 300;

const label = (p: ProxyStatus): string => `${proxyName(p)} (${shortProxyId(p.proxyId)})`;

/**
 * Per aspect, one ✓ line when every proxy passes, else one ✗ line per proxy that does not, so a
 * mesh of a thousand proxies reads in a screen: connected, SYNCED (NACKs explained), certificate
 * valid, ready.
 */
export function checkProxies(proxies: readonly ProxyStatus[], nowMs: number): CheckResult[] {
  if (proxies.length === 0) {
    return [{ group: GROUP, status: 'warn', message: 'no proxy is connected or recently gone', hint: 'start sidecars with a join token (weftctl token create --service S)' }];
  }
  const n = proxies.length;
  // `is connected` for one proxy, `are connected` for several.
  const every = (what: string): CheckResult => ({
    group: GROUP,
    status: 'ok',
    message: n === 1 ? `the proxy ${what.replace('{is}', 'is').replace('{holds}', 'holds')}` : `all ${n} proxies ${what.replace('{is}', 'are').replace('{holds}', 'hold')}`,
  });
  const aspect = (what: string, failures: CheckResult[]): CheckResult[] => (failures.some((f) => f.status === 'fail') ? failures : [every(what), ...failures]);

  const connected = proxies.flatMap((p): CheckResult[] =>
    p.connected ? [] : [{
      group: GROUP,
      status: 'fail',
      message: `${label(p)} is disconnected since ${relativeTime(p.disconnectedAtMs, nowMs)}; it keeps serving its last configuration (version ${p.ackedVersion || 'none'})`,
      hint: 'check that its sidecar runs and reaches the control plane (its log, its /ready); a proxy gone for good leaves this list 10m after it disconnected, or at once with weftctl proxy remove ' + p.proxyId,
    }],
  );

  const synced = proxies.filter((p) => p.connected).flatMap((p): CheckResult[] => {
    const status = deriveProxyStatus(p);
    if (status === 'NACKED') {
      return [{
        group: GROUP,
        status: 'fail',
        message: `${label(p)} rejected version ${p.lastNackVersion} (NACK ${relativeTime(p.lastNackAtMs, nowMs)}): ${truncate(p.lastNackMessage, NACK_WIDTH)}`,
        hint: `fix the resource and field the message names and apply it again; it keeps running version ${p.ackedVersion || 'none'} until then (weftctl proxy-status ${p.proxyId.slice(0, 8)} shows what it misses)`,
      }];
    }
    if (status === 'STALE') {
      return [{ group: GROUP, status: 'fail', message: `${label(p)} has not ACKed version ${p.sentVersion} (runs ${p.ackedVersion || 'none'})`, hint: 'a push may be in flight: run weftctl check again; if it stays, check the sidecar\'s log and restart it' }];
    }
    if (status === 'PENDING') {
      return [{ group: GROUP, status: 'fail', message: `${label(p)} has been sent no configuration yet`, hint: 'it just connected: run weftctl check again' }];
    }
    if (p.lastNackMessage) {
      return [{ group: GROUP, status: 'warn', message: `${label(p)} rejected version ${p.lastNackVersion} ${relativeTime(p.lastNackAtMs, nowMs)} (since fixed: it runs ${p.ackedVersion}): ${truncate(p.lastNackMessage, NACK_WIDTH)}` }];
    }
    return [];
  });

  const certificates = proxies.flatMap((p): CheckResult[] => {
    if (!p.certificateExpiresAtMs) return [{ group: GROUP, status: 'warn', message: `${label(p)} did not report its certificate's expiry`, hint: 'it runs an older sidecar: upgrade it' }];
    if (p.certificateExpiresAtMs > nowMs) return [];
    return [{
      group: GROUP,
      status: 'fail',
      message: `${label(p)}'s certificate expired ${relativeTime(p.certificateExpiresAtMs, nowMs)}: other proxies refuse its connections`,
      hint: 'its sidecar could not renew it: check its log for renewal errors and that it reaches the control plane; restart it (with a new join token if it was removed)',
    }];
  });

  const notReady = proxies.filter((p) => p.connected && !p.ready).map((p): CheckResult => ({
    group: GROUP,
    status: 'warn',
    message: `${label(p)} is not ready (starting or draining): it gets no traffic`,
    hint: 'its /ready on the sidecar admin port says why',
  }));

  return [
    ...aspect('{is} connected', connected),
    ...aspect('{is} SYNCED', synced),
    ...aspect('{holds} a valid certificate', certificates),
    ...(notReady.length > 0 ? notReady : [every('{is} ready')]),
  ];
}
