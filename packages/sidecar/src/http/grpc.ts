import { HEADERS } from '@weft/api';
import type { ProxyError } from '../layers/errors';
import type { HeaderMap } from '../layers/service';

/**
 * What the data path needs to know about gRPC: which requests are gRPC, their deadline
 * (`grpc-timeout`), and how the sidecar's own errors read to a gRPC client. gRPC errors travel as
 * HTTP 200 with `grpc-status` (PROTOCOL-HTTP2.md); a client shown a bare 504 would report
 * UNAVAILABLE, not the DEADLINE_EXCEEDED it ran into.
 */

/** gRPC status codes the sidecar answers with (the numbering of grpc/status.proto). */
export const GRPC_STATUS = Object.freeze({
  ok: 0,
  cancelled: 1,
  unknown: 2,
  deadlineExceeded: 4,
  permissionDenied: 7,
  unimplemented: 12,
  internal: 13,
  unavailable: 14,
  unauthenticated: 16,
});

/** `application/grpc` and its `+proto`/`+json` forms; not gRPC-Web, which frames trailers in the body. */
export function isGrpc(contentType: string | string[] | undefined): boolean {
  if (typeof contentType !== 'string') return false;
  const ct = contentType.toLowerCase();
  return ct === 'application/grpc' || ct.startsWith('application/grpc+') || ct.startsWith('application/grpc;');
}

const TIMEOUT_RE = /^(\d{1,8})([HMSmun])$/;
const UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/** `grpc-timeout` (1 to 8 digits and a unit) in milliseconds; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string') return undefined;
  const m = TIMEOUT_RE.exec(value.trim());
  if (!m) return undefined;
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}

/** Milliseconds as `grpc-timeout`, rounded up to the coarsest unit that still fits in 8 digits. */
export function formatGrpcTimeout(ms: number): string {
  const whole = Math.max(1, Math.ceil(ms));
  if (whole <= 99_999_999) return `${whole}m`;
  const seconds = Math.ceil(whole / 1000);
  if (seconds <= 99_999_999) return `${seconds}S`;
  return `${Math.min(99_999_999, Math.ceil(seconds / 3600))}H`;
}

/** Codes whose meaning is more precise than the status their HTTP number maps to. */
const BY_CODE: ReadonlyMap<string, number> = new Map([
  ['WEFT_ERR_UPSTREAM_TIMEOUT', GRPC_STATUS.deadlineExceeded],
  ['WEFT_ERR_ATTEMPT_TIMEOUT', GRPC_STATUS.deadlineExceeded],
  ['WEFT_ERR_DEADLINE_EXCEEDED', GRPC_STATUS.deadlineExceeded],
  ['WEFT_ERR_CLIENT_CLOSED', GRPC_STATUS.cancelled],
  ['WEFT_ERR_NO_PEER_IDENTITY', GRPC_STATUS.unauthenticated],
  ['WEFT_ERR_INTERNAL', GRPC_STATUS.internal],
]);

/** The gRPC status for a sidecar error: by code first, else gRPC's own HTTP-to-gRPC mapping. */
export function grpcStatusOf(err: ProxyError): number {
  const byCode = BY_CODE.get(err.code);
  if (byCode !== undefined) return byCode;
  switch (err.httpStatus) {
    case 400:
      return GRPC_STATUS.internal;
    case 401:
      return GRPC_STATUS.unauthenticated;
    case 403:
      return GRPC_STATUS.permissionDenied;
    case 404:
      return GRPC_STATUS.unimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_STATUS.unavailable;
    default:
      return GRPC_STATUS.unknown;
  }
}

/** The headers of a trailers-only gRPC answer to a sidecar error (HTTP status 200). */
export function grpcErrorHeaders(err: ProxyError): HeaderMap {
  return {
    'content-type': 'application/grpc',
    'grpc-status': String(grpcStatusOf(err)),
    'grpc-message': encodeGrpcMessage(err.message),
    [HEADERS.error]: err.code,
  };
}

/** `grpc-message` is percent-encoded UTF-8: printable ASCII except '%' passes as is. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The `grpc-status` of a response: from its headers (trailers-only) or its trailers; '' if none. */
export function grpcStatusIn(headers: HeaderMap | undefined): string {
  const v = headers?.['grpc-status'];
  return typeof v === 'string' ? v.trim() : '';
}
