import { expect } from 'chai';
import { formatTraceParent, parseTraceParent, type TraceParent } from '../../src/telemetry/traceparent';

describe('telemetry/traceparent', () => {
  const T = '4bf92f3577b34da6a3ce929d0e0e4736';
  const S = '00f067aa0ba902b7';
  const table: [string, string | string[] | undefined, TraceParent | undefined][] = [
    ['a valid sampled header', `00-${T}-${S}-01`, { traceId: T, spanId: S, flags: 1 }],
    ['a valid unsampled header', `00-${T}-${S}-00`, { traceId: T, spanId: S, flags: 0 }],
    ['surrounding spaces', ` 00-${T}-${S}-01 `, { traceId: T, spanId: S, flags: 1 }],
    ['a future version with extra fields', `cc-${T}-${S}-01-extra`, { traceId: T, spanId: S, flags: 1 }],
    ['version 00 with extra fields', `00-${T}-${S}-01-extra`, undefined],
    ['version ff', `ff-${T}-${S}-01`, undefined],
    ['upper-case hex', `00-${T.toUpperCase()}-${S}-01`, undefined],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${S}-01`, undefined],
    ['an all-zero span id', `00-${T}-${'0'.repeat(16)}-01`, undefined],
    ['a short trace id', `00-${T.slice(1)}-${S}-01`, undefined],
    ['two headers', [`00-${T}-${S}-01`, `00-${T}-${S}-01`], undefined],
    ['no header', undefined, undefined],
  ];
  for (const [what, header, expected] of table) it(what, () => expect(parseTraceParent(header)).to.deep.equal(expected));

  it('formats what it parses', () => {
    expect(formatTraceParent({ traceId: T, spanId: S, flags: 1 })).to.equal(`00-${T}-${S}-01`);
  });
});
