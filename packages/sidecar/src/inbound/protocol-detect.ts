import type { HttpProtocol } from '../http/downstream';
import { httpProtocolOf, TLS_HANDSHAKE_BYTE } from '../listen/sniff';
import type { AppProtocol } from './local-app';

/** MeshConfig `mtls`: STRICT refuses plaintext; PERMISSIVE also accepts it (migration). */
export type MtlsMode = 'STRICT' | 'PERMISSIVE';

/** What a new inbound connection is: TLS (mesh peers), plaintext HTTP or TCP, or refused. */
export type InboundConnection = 'tls' | 'refused' | 'tcp' | HttpProtocol;

/**
 * Tells an inbound connection apart by its first bytes: a TLS handshake record starts with 0x16,
 * which no HTTP request line does. Anything else is plaintext, refused in STRICT mode; in
 * PERMISSIVE mode it goes to a TCP app as is, or to an HTTP app as HTTP/1.1 or h2c (its preface).
 * Undefined while more bytes are needed.
 */
export function detectInbound(head: Buffer, mode: MtlsMode, app: AppProtocol): InboundConnection | undefined {
  if (head[0] === TLS_HANDSHAKE_BYTE) return 'tls';
  if (mode !== 'PERMISSIVE') return 'refused';
  if (app === 'tcp') return 'tcp';
  return httpProtocolOf(head);
}

/** ALPN protocols the inbound offers: an app's own protocol family only, so a tunnel cannot reach an HTTP app. */
export function inboundAlpn(app: AppProtocol): string[] {
  return app === 'tcp' ? ['weft-tcp'] : ['h2', 'http/1.1'];
}
