import type { CaProxyProgress } from '@weft/api';
import type { RotationPhase } from './ca-rotation-file';

/** What the current phase asks of every proxy. */
export interface RotationTarget {
  readonly phase: RotationPhase;
  readonly newRootFingerprint: string;
  /** The trust bundle in force now: every proxy must have ACKed a snapshot with exactly these roots. */
  readonly bundleFingerprints: readonly string[];
}

/** The slice of a proxy record a rotation reads (ProxyRecord has it). */
export interface ProxyFacts {
  readonly node: { readonly proxyId: string; readonly service: string; readonly namespace: string; readonly certificateRootFingerprint?: string };
  readonly connected: boolean;
  readonly disconnectedAtMs: number;
  readonly ackedTrustFingerprints: readonly string[];
}

export interface ProgressOptions {
  readonly now: number;
  /** A proxy gone longer than this no longer holds a phase up (it must re-join with a new token). */
  readonly graceMs: number;
  readonly isRemoved: (proxyId: string) => boolean;
}

export interface RotationProgress {
  readonly proxies: readonly CaProxyProgress[];
  /** Why the phase cannot advance yet; empty when it can. */
  readonly waitingFor: string;
}

/** Proxies named in `waitingFor`; the rest are counted. */
const NAMED = 3;

/**
 * Where every proxy stands against the phase's goal:
 * - overlap and retire: it ACKed a snapshot whose trust bundle is the current one;
 * - reissue: that, and its certificate chains to the new root.
 * Connected proxies count, and so do proxies disconnected for less than the endpoint grace (a
 * blip or a control plane restart); removed proxies never do.
 */
export function rotationProgress(target: RotationTarget, records: readonly ProxyFacts[], options: ProgressOptions): RotationProgress {
  const wanted = [...target.bundleFingerprints].sort().join(',');
  const proxies: CaProxyProgress[] = [];
  for (const r of records) {
    const { proxyId, service, namespace } = r.node;
    if (options.isRemoved(proxyId)) continue;
    const goneForMs = r.connected ? 0 : options.now - r.disconnectedAtMs;
    const root = r.node.certificateRootFingerprint ?? '';
    const ackedNewBundle = [...r.ackedTrustFingerprints].sort().join(',') === wanted;
    let waitingFor = '';
    if (!ackedNewBundle) waitingFor = target.phase === 'retire' ? 'ACK of the trust bundle without the old root' : 'ACK of the trust bundle with the new root';
    else if (target.phase === 'reissue' && root !== target.newRootFingerprint) waitingFor = 'a certificate from the new root';
    if (waitingFor && !r.connected) {
      waitingFor = goneForMs > options.graceMs ? '' : `${waitingFor} (disconnected ${Math.round(goneForMs / 1000)}s ago; ignored after the endpoint grace)`;
    }
    proxies.push({ proxyId, service, namespace, connected: r.connected, certificateRootFingerprint: root, ackedNewBundle, waitingFor });
  }
  proxies.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.service.localeCompare(b.service) || a.proxyId.localeCompare(b.proxyId));
  const blocking = proxies.filter((p) => p.waitingFor);
  const named = blocking.slice(0, NAMED).map((p) => `${p.service}.${p.namespace} (${p.proxyId.slice(0, 8)}): ${p.waitingFor}`);
  const more = blocking.length > NAMED ? `; and ${blocking.length - NAMED} more` : '';
  const count = `${blocking.length} ${blocking.length === 1 ? 'proxy' : 'proxies'}`;
  return { proxies, waitingFor: blocking.length ? `${count}: ${named.join('; ')}${more}` : '' };
}
