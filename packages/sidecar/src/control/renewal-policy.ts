import { splitPemChain, verifyChain } from '@weft/pki/workload';
import type { IdentityMaterial } from './identity-material';

/** A certificate from a retiring root is replaced within this long at most (spread, not in one burst). */
const MAX_REROOT_JITTER_MS = 3_000;

/** Half the lifetime, measured from when we received the certificate. */
export function renewDelay(material: Pick<IdentityMaterial, 'issuedAtMs' | 'expiresAtMs'>, now: number): number {
  const renewAt = material.issuedAtMs + (material.expiresAtMs - material.issuedAtMs) / 2;
  return Math.max(0, renewAt - now);
}

/**
 * How soon to replace a certificate that does not chain to the root the control plane signs
 * with now: at once, give or take a random share of a few seconds (at most a tenth of what is
 * left of its life), so that a fleet told in the same push does not renew in the same instant.
 */
export function rerootDelay(material: Pick<IdentityMaterial, 'expiresAtMs'>, now: number, random: () => number = Math.random): number {
  const window = Math.min(MAX_REROOT_JITTER_MS, Math.max(0, material.expiresAtMs - now) / 10);
  return Math.floor(random() * window);
}

/**
 * The trust bundle to keep with a renewed certificate. Once snapshots have set the bundle, they
 * own it: a renewal answered from an older state of the control plane (one that straddled a
 * rotation's phase change) must not take back a root we ACKed, or add back one we dropped. Only
 * when the new certificate does not verify against the bundle in force do we also trust the
 * roots the renewal came with.
 */
export function bundleAfterRenewal(renewed: IdentityMaterial, inForce: IdentityMaterial | undefined): readonly string[] {
  if (!inForce || inForce.trustBundlePem.length === 0) return renewed.trustBundlePem;
  if (verifyChain(renewed.certificateChainPem, inForce.trustBundlePem).ok) return inForce.trustBundlePem;
  const seen = new Set(inForce.trustBundlePem.flatMap(splitPemChain).map((p) => p.trim()));
  return [...inForce.trustBundlePem, ...renewed.trustBundlePem.filter((p) => !seen.has(p.trim()))];
}
