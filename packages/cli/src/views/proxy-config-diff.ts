import type { ProxyConfig, ProxyStatus } from '@weft/api';
import { stringify } from 'yaml';
import { relativeTime } from '../output/format';
import { unifiedDiff } from '../output/unified-diff';
import { deriveProxyStatus } from '../proxy-sync-status';
import { configDocument, type ConfigDocument } from './proxy-config-view';
import { proxyName, shortProxyId } from './proxy-table';

/** A document as diffed: without version and store revision, which differ whenever anything in the store changed. */
function body(d: ConfigDocument | undefined): string {
  if (!d) return '';
  const { version: _version, storeRevision: _revision, ...content } = d;
  return stringify(content, { lineWidth: 0, sortMapEntries: true });
}

/**
 * What `weftctl proxy-status PROXY` prints: how the proxy stands, then the unified diff between
 * the snapshot it ACKed and the one the control plane would send now, or "in sync".
 */
export function renderProxyConfigDiff(pc: ProxyConfig, nowMs: number): { readonly inSync: boolean; readonly text: string } {
  const p = pc.proxy as ProxyStatus;
  const acked = pc.acked?.snapshot ? configDocument(pc.acked.version, pc.acked.snapshot) : undefined;
  const current = pc.current?.snapshot ? configDocument(pc.current.version, pc.current.snapshot) : undefined;
  const who = `${proxyName(p)} (${shortProxyId(p.proxyId)})`;
  let head = `${who} is ${deriveProxyStatus(p)}: it runs ${acked ? `version ${acked.version}, ACKed ${relativeTime(pc.acked?.atMs ?? 0, nowMs)}` : 'no version ACKed on its current stream'}; the control plane would send version ${current?.version ?? '-'}\n`;
  if (p.lastNackMessage) head += `last NACK (version ${p.lastNackVersion}, ${relativeTime(p.lastNackAtMs, nowMs)}): ${p.lastNackMessage}\n`;
  const diff = unifiedDiff(body(acked), body(current), {
    from: `acked ${acked?.version ?? '(none)'}`,
    to: `current ${current?.version ?? '(none)'}`,
  });
  if (diff === '') {
    const note = acked && current && acked.version !== current.version ? ` (the versions differ only in the store revision; the new one is pushed to it)` : '';
    return { inSync: true, text: `${head}in sync: what it ACKed is what the control plane would send now${note}\n` };
  }
  return { inSync: false, text: `${head}\n${diff}` };
}
