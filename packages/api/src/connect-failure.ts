/** errno codes a TCP connect fails with, in words. */
const ERRNO: Readonly<Record<string, string>> = Object.freeze({
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
});

/**
 * What failed, in a few words, when a gRPC channel could not connect: grpc-js reports it as
 * UNAVAILABLE with details such as `No connection established. Last error: Error: connect
 * ECONNREFUSED 127.0.0.1:1. Resolution note: `, which say more about grpc-js than about the
 * problem. Undefined when the details are not a connection failure (a server's own UNAVAILABLE).
 * weftctl and the sidecar both build their one-line message from it.
 */
export function connectFailure(details: string): string | undefined {
  if (/^Name resolution failed/i.test(details)) return 'cannot resolve the host name';
  const last = /Last error: (?:Error: )?(.*?)(?:\.? Resolution note:.*)?$/s.exec(details);
  const connectionLevel = last !== null || /^(No connection established|Connection dropped|Failed to connect)/i.test(details);
  if (!connectionLevel) return undefined;
  return socketFailure((last?.[1] ?? details).trim().replace(/\.$/, ''));
}

/** A socket or TLS error message (`connect ECONNREFUSED 127.0.0.1:1`) in a few words. */
export function socketFailure(cause: string): string {
  const errno = /\b(E[A-Z_]+)\b/.exec(cause)?.[1];
  if (errno && ERRNO[errno]) return ERRNO[errno];
  if (/wrong version number|packet length too long|unknown protocol|http request/i.test(cause)) return 'the server does not speak TLS (not a control plane\'s gRPC port?)';
  if (/^TLS handshake/i.test(cause)) return cause;
  // OpenSSL's `...:error:0A00010B:SSL routines:fn:reason:file:line:` down to its reason.
  const openssl = /SSL routines:[^:]*:([^:]+):/.exec(cause)?.[1];
  if (openssl || /certificate|TLS|SSL|handshake|secure/i.test(cause)) return `TLS handshake failed (${openssl ?? cause})`;
  return cause || 'no connection';
}
