import { HEADERS } from '@weft/api';
import type { HttpProtocol } from './downstream';

/**
 * The protocol the calling app spoke, which an app whose protocol is not declared is spoken to
 * in. Usually the protocol the request arrived in; but a calling sidecar with `--http1-upstream
 * h2` carries its app's HTTP/1.1 as HTTP/2 and says so in `x-weft-caller-protocol: http1`. The
 * marker is believed only from a peer sidecar (a TLS connection with a mesh certificate): the
 * calling sidecar removed whatever its app sent (mesh headers never pass an outbound accept), and
 * a plaintext caller is no sidecar. The accept layer drops the header before anyone else sees it.
 */
export function callerProtocolOf(arrived: HttpProtocol, fromPeerSidecar: boolean, marker: string | string[] | undefined): HttpProtocol {
  return arrived === 'h2' && fromPeerSidecar && marker === 'http1' ? 'http1' : arrived;
}

/** The marker a calling sidecar adds when it carries its app's HTTP/1.1 as HTTP/2. */
export const HTTP1_CALLER = Object.freeze({ [HEADERS.callerProtocol]: 'http1' });
