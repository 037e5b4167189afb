import { probeConnect, type ConnectProbeResult } from '@weft/api';
import { parseHostPort } from '@weft/api';

/** A probe that gets no answer in this long proves nothing (a firewall, a partition). */
const PROBE_TIMEOUT_MS = 1_000;

/**
 * Whether a sidecar still listens at its announced inbound address: a TCP connect, opened and
 * closed at once. Refused means nothing listens there any more; the registry withdraws the
 * endpoint on that answer alone. A connect (TCP, not TLS) is enough for that decision and costs
 * the sidecar no handshake; who listens is the callers' business, who pin the peer's identity.
 */
export function probeInbound(address: string): Promise<ConnectProbeResult> {
  const at = parseHostPort(address);
  return at ? probeConnect(at.host, at.port, PROBE_TIMEOUT_MS) : Promise.resolve('unknown');
}
