import { expect } from 'chai';
import { STATUS_CODE } from '../src/otlp-spans';
import { renderTraceTree, type TreeSpan } from '../src/trace-tree';

const T = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
const ms = (n: number): bigint => BigInt(Math.round(n * 1e6)) + 1_700_000_000_000_000_000n;

function span(spanId: string, parentSpanId: string, name: string, start: number, end: number, extra: Partial<TreeSpan> = {}): TreeSpan {
  return { traceId: T, spanId, parentSpanId, name, startTimeUnixNano: ms(start), endTimeUnixNano: ms(end), ...extra };
}

describe('renderTraceTree', () => {
  it('renders a trace as an indented tree with durations and offsets from the parent', () => {
    const spans = [
      // Given out of order, as batches arrive.
      span('0000000000000004', '0000000000000003', 'inbound inventory', 4.0, 7.2, { serviceName: 'inventory' }),
      span('0000000000000002', '0000000000000001', 'inbound orders', 1.1, 10.9, { serviceName: 'orders' }),
      span('0000000000000001', '', 'outbound orders', 0, 12.3, { serviceName: 'frontend', attributes: { 'http.response.status_code': 200 } }),
      span('0000000000000003', '0000000000000002', 'outbound inventory', 3.1, 8.0, { serviceName: 'orders' }),
      span('0000000000000005', '0000000000000002', 'outbound audit', 8.5, 9.0, {
        serviceName: 'orders',
        status: { code: STATUS_CODE.ERROR, message: 'connect refused' },
      }),
    ];
    expect(renderTraceTree(spans, { attributes: ['http.response.status_code'] })).to.equal(
      [
        `trace ${T} (5 spans)`,
        'outbound orders [frontend]  12.3ms  http.response.status_code=200',
        '  inbound orders [orders]  9.8ms (+1.1ms)',
        '    outbound inventory [orders]  4.9ms (+2.0ms)',
        '      inbound inventory [inventory]  3.2ms (+0.9ms)',
        '    outbound audit [orders]  0.5ms (+7.4ms)  ERROR: connect refused',
        '',
      ].join('\n'),
    );
  });

  it('shows spans whose parent never arrived as roots, and separates traces', () => {
    const other = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
    const spans = [
      span('0000000000000009', '00000000000000ff', 'inbound orders', 5, 6),
      { ...span('0000000000000001', '', 'outbound orders', 0, 2), traceId: other },
    ];
    expect(renderTraceTree(spans)).to.equal(
      [
        `trace ${other} (1 span)`,
        'outbound orders  2.0ms',
        '',
        `trace ${T} (1 span)`,
        'inbound orders  1.0ms (parent 00000000000000ff not received)',
        '',
      ].join('\n'),
    );
  });

  it('renders nothing for no spans', () => {
    expect(renderTraceTree([])).to.equal('');
  });
});
