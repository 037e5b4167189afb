import { expect } from 'chai';
import type { HeaderMap } from '../../src/layers/service';
import { incomingContext } from '../../src/telemetry/trace-context';
import { SAMPLING_DEFERRED } from '../../src/telemetry/traceparent';

describe('telemetry/trace-context: W3C traceparent, else B3', () => {
  const T = '463ac35c9f6413ad48485a3953bb6124';
  const T64 = 'a3ce929d0e0e4736';
  const S = '0020000000000001';
  const rows: [string, HeaderMap, ReturnType<typeof incomingContext>][] = [
    ['traceparent', { traceparent: `00-${T}-${S}-01` }, { traceId: T, spanId: S, flags: 1 }],
    ['traceparent wins over b3', { traceparent: `00-${T}-${S}-00`, b3: `${T}-${'1'.repeat(16)}-1` }, { traceId: T, spanId: S, flags: 0 }],
    ['an invalid traceparent starts over; b3 is not consulted', { traceparent: 'garbage', b3: `${T}-${S}-1` }, undefined],
    ['b3 single, sampled', { b3: `${T}-${S}-1` }, { traceId: T, spanId: S, flags: 1 }],
    ['b3 single, debug', { b3: `${T}-${S}-d-${'2'.repeat(16)}` }, { traceId: T, spanId: S, flags: 1 }],
    ['b3 single, not sampled', { b3: `${T}-${S}-0` }, { traceId: T, spanId: S, flags: 0 }],
    ['b3 single, no decision: this sidecar samples', { b3: `${T}-${S}` }, { traceId: T, spanId: S, flags: SAMPLING_DEFERRED }],
    ['b3 single, 64-bit trace id padded to 128 bits', { b3: `${T64}-${S}-1` }, { traceId: `${'0'.repeat(16)}${T64}`, spanId: S, flags: 1 }],
    ['b3 single, upper case accepted', { b3: `${T.toUpperCase()}-${S}-1` }, { traceId: T, spanId: S, flags: 1 }],
    ['b3 sampling state only: no context to continue', { b3: '1' }, undefined],
    ['b3 single, bad sampling state', { b3: `${T}-${S}-x` }, undefined],
    ['b3 single, zero trace id', { b3: `${'0'.repeat(32)}-${S}-1` }, undefined],
    ['x-b3-*, sampled', { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': '1' }, { traceId: T, spanId: S, flags: 1 }],
    ['x-b3-*, sampled true', { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-sampled': 'true' }, { traceId: T, spanId: S, flags: 1 }],
    ['x-b3-*, debug flag', { 'x-b3-traceid': T, 'x-b3-spanid': S, 'x-b3-flags': '1' }, { traceId: T, spanId: S, flags: 1 }],
    ['x-b3-*, not sampled', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '0' }, { traceId: `${'0'.repeat(16)}${T64}`, spanId: S, flags: 0 }],
    ['x-b3-*, no decision', { 'x-b3-traceid': T, 'x-b3-spanid': S }, { traceId: T, spanId: S, flags: SAMPLING_DEFERRED }],
    ['x-b3-* without a span id', { 'x-b3-traceid': T }, undefined],
    ['nothing', {}, undefined],
  ];
  for (const [what, headers, expected] of rows) {
    it(what, () => {
      expect(incomingContext(headers)).to.deep.equal(expected);
    });
  }
});
