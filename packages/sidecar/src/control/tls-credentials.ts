import * as grpc from '@grpc/grpc-js';
import { CONTROL_PLANE_SERVICE, controlPlaneSpiffeId } from '@weft/api';
import { checkControlPlaneIdentity } from '@weft/pki/workload';
import type { IdentityMaterial } from './identity-material';

/**
 * The TLS server name (SNI) we send. The control plane is verified by its SPIFFE ID, not by a
 * host name, and an IP address is not a valid SNI value, so a fixed name is sent instead.
 */
export const CONTROL_PLANE_SERVER_NAME = CONTROL_PLANE_SERVICE;

/**
 * Channel credentials for the control plane: trust exactly `rootsPem` (the pinned root, later the
 * trust bundle) and, when we hold one, present our mesh certificate for mTLS.
 */
export function controlPlaneCredentials(
  trustDomain: string,
  rootsPem: readonly string[],
  identity?: Pick<IdentityMaterial, 'privateKeyPem' | 'certificateChainPem'>,
): grpc.ChannelCredentials {
  const roots = Buffer.from(rootsPem.join('\n'));
  const key = identity ? Buffer.from(identity.privateKeyPem) : null;
  const chain = identity ? Buffer.from(identity.certificateChainPem.join('\n')) : null;
  return grpc.credentials.createSsl(roots, key, chain, { checkServerIdentity: checkControlPlaneIdentity(controlPlaneSpiffeId(trustDomain)) });
}

/** Options for every channel to the control plane. */
export const CONTROL_CHANNEL_OPTIONS: grpc.ChannelOptions = Object.freeze({
  'grpc.ssl_target_name_override': CONTROL_PLANE_SERVER_NAME,
  // The discovery stream is idle between pushes; pings notice a dead control plane (or a dropped
  // NAT entry) within about 8 s instead of at the next TCP retransmission timeout.
  'grpc.keepalive_time_ms': 5_000,
  'grpc.keepalive_timeout_ms': 3_000,
  'grpc.keepalive_permit_without_calls': 1,
  // Retrying is ours: with backoff, logged, and on a fresh channel that presents the current
  // certificate. grpc-js's transparent call retries would hide failures from that loop.
  'grpc.enable_retries': 0,
});
