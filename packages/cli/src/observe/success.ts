import type { TapEvent } from '@weft/api';

/** The rule sidecars count successes by (telemetry/observe/traffic-summary.ts): not a 5xx, gRPC OK. */
export function isSuccessEvent(e: Pick<TapEvent, 'status' | 'grpcStatus'>): boolean {
  return e.status > 0 && e.status < 500 && (e.grpcStatus === '' || e.grpcStatus === '0');
}
