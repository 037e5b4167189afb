import { PassThrough } from 'node:stream';
import * as tracing from '@opentelemetry/sdk-trace-base';
import { createLogger, effectiveMeshConfig } from '@weft/api';
import { expect } from 'chai';
import type { SelfInfo } from '../../src/self';
import { RequestRecord } from '../../src/telemetry/record';
import { Telemetry } from '../../src/telemetry/telemetry';
import { Tracing, type SpanAttributes } from '../../src/telemetry/trace';
import { CollectingExporter } from './collecting-exporter';

const SELF: SelfInfo = { proxyId: 'p1', service: 'frontend', namespace: 'default', trustDomain: 'weft.local', spiffeId: 'spiffe://weft.local/ns/default/sa/frontend', labels: {} };
const log = createLogger('test');

/** Attributes as the trace layers hand them: a function of the request, here the identity. */
const attrs = (a: SpanAttributes): SpanAttributes => a;

describe('telemetry/trace', () => {
  const T = 'a'.repeat(32);
  let exporter: CollectingExporter;
  let t: Tracing;
  beforeEach(() => {
    exporter = new CollectingExporter();
    t = new Tracing({ 'service.name': 'frontend' }, log, () => exporter);
  });
  afterEach(() => t.shutdown());

  it('continues a remote parent and hands out a traceparent for the next hop', async () => {
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 100 });
    const span = t.startSpan('outbound orders', 'client', { traceId: T, spanId: 'b'.repeat(16), flags: 1 }, attrs, { 'weft.route': 'orders/0' });
    const child = span.child('outbound orders attempt', attrs, { 'weft.attempt': 1 });
    child.end(503);
    span.end(200);
    span.end(500); // ignored: a span ends once
    expect(span.traceId).to.equal(T);
    expect(span.traceparent).to.match(new RegExp(`^00-${T}-[0-9a-f]{16}-01$`));
    await t.shutdown();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).to.deep.equal(['outbound orders', 'outbound orders attempt']);
    const parent = spans.find((s) => s.name === 'outbound orders');
    const attempt = spans.find((s) => s.name === 'outbound orders attempt');
    expect(parent?.parentSpanContext?.spanId).to.equal('b'.repeat(16));
    expect(attempt?.parentSpanContext?.spanId).to.equal(parent?.spanContext().spanId);
    expect(attempt?.status.code).to.equal(2); // error on 5xx
    expect(parent?.attributes['http.response.status_code']).to.equal(200);
    expect(parent?.attributes['weft.route']).to.equal('orders/0');
    expect(attempt?.attributes['weft.attempt']).to.equal(1);
  });

  it('starts a trace without a parent, and respects an unsampled parent', async () => {
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 100 });
    const root = t.startSpan('inbound orders', 'server', undefined, attrs, {});
    expect(root.traceparent).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const unsampled = t.startSpan('inbound orders', 'server', { traceId: T, spanId: 'c'.repeat(16), flags: 0 }, attrs, {});
    expect(unsampled.traceparent).to.match(new RegExp(`^00-${T}-[0-9a-f]{16}-00$`));
    expect(unsampled.traceparent).to.not.contain('c'.repeat(16));
    root.end(200);
    unsampled.end(200);
    await t.shutdown();
    expect(exporter.getFinishedSpans()).to.have.length(1);
  });

  it('samples new traces by ratio and exports nothing without an endpoint', async () => {
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 0 });
    expect(t.startSpan('x', 'client', undefined, attrs, {}).traceparent).to.match(/-00$/);
    t.configure({ otlpEndpoint: '', samplingPercent: 100 });
    const s = t.startSpan('x', 'client', undefined, attrs, {});
    expect(s.traceparent).to.match(/-01$/); // ids still propagate
    s.end(200);
    await t.shutdown();
    expect(exporter.getFinishedSpans()).to.have.length(0);
  });
});

describe('telemetry/trace: sampling is decided before the SDK', () => {
  const T = 'a'.repeat(32);
  const CALLER = 'c'.repeat(16);
  let exporter: CollectingExporter;
  let t: Tracing;
  let computed: number;
  /** Counts how often a span's attributes were computed: only a recorded span needs them. */
  const counted = (a: SpanAttributes): SpanAttributes => {
    computed += 1;
    return a;
  };
  beforeEach(() => {
    exporter = new CollectingExporter();
    t = new Tracing({ 'service.name': 'orders' }, log, () => exporter);
    computed = 0;
  });
  afterEach(() => t.shutdown());

  it('an unsampled caller at 0%: no span is recorded, the next hop gets the caller trace with flags 00', async () => {
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 0 });
    const span = t.startSpan('inbound orders', 'server', { traceId: T, spanId: CALLER, flags: 0 }, counted, { 'weft.peer.identity': 'x' });
    const attempt = span.child('outbound orders attempt', counted, { 'weft.attempt': 1 });
    span.setAttributes({ 'weft.authz.decision': 'allow' });
    span.addEvent('weft.retry', { 'weft.attempt': 2 });
    attempt.end(503);
    span.end(200);
    expect(span.recording).to.equal(false);
    expect(span.traceId).to.equal(T);
    const [version, traceId, spanId, flags] = span.traceparent.split('-');
    expect([version, traceId, flags]).to.deep.equal(['00', T, '00']);
    expect(spanId).to.match(/^[0-9a-f]{16}$/).and.not.equal(CALLER).and.not.equal('0'.repeat(16));
    expect(attempt.traceparent).to.match(new RegExp(`^00-${T}-[0-9a-f]{16}-00$`)).and.not.equal(span.traceparent);
    expect(computed).to.equal(0);
    await t.shutdown();
    expect(exporter.spans).to.have.length(0);
  });

  it('an unsampled caller is not recorded even at 100%; a sampled caller is, under the caller span', async () => {
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 100 });
    const unsampled = t.startSpan('inbound orders', 'server', { traceId: T, spanId: CALLER, flags: 0 }, counted, {});
    unsampled.end(200);
    expect(unsampled.traceparent).to.match(new RegExp(`^00-${T}-[0-9a-f]{16}-00$`));
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 0 });
    const sampled = t.startSpan('inbound orders', 'server', { traceId: T, spanId: CALLER, flags: 1 }, counted, { 'weft.peer.identity': 'x' });
    sampled.end(200);
    expect(sampled.recording).to.equal(true);
    expect(computed).to.equal(1);
    await t.shutdown();
    expect(exporter.spans).to.have.length(1);
    const [span] = exporter.spans;
    expect(span?.spanContext().traceId).to.equal(T);
    expect(span?.parentSpanContext?.spanId).to.equal(CALLER);
    expect(span?.attributes['weft.peer.identity']).to.equal('x');
    expect(sampled.traceparent).to.equal(`00-${T}-${span?.spanContext().spanId}-01`);
  });

  it('without a caller at 0%: a new trace id each time, flags 00, nothing recorded', async () => {
    t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 0 });
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const span = t.startSpan('outbound orders', 'client', undefined, counted, {});
      expect(span.traceparent).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      expect(span.traceparent.slice(3, 35)).to.equal(span.traceId);
      ids.add(span.traceId);
      span.end(200);
    }
    expect(ids.size).to.equal(200);
    expect(computed).to.equal(0);
    await t.shutdown();
    expect(exporter.spans).to.have.length(0);
  });

  it('without a collector a sampled caller keeps its sampled flag for the hops that record', () => {
    t.configure({ otlpEndpoint: '', samplingPercent: 0 });
    const span = t.startSpan('inbound orders', 'server', { traceId: T, spanId: CALLER, flags: 1 }, counted, {});
    expect(span.recording).to.equal(false);
    expect(span.traceparent).to.match(new RegExp(`^00-${T}-[0-9a-f]{16}-01$`));
    expect(span.child('attempt', counted, {}).traceparent).to.match(/-01$/);
    expect(computed).to.equal(0);
  });
});

describe('Telemetry', () => {
  it('turns request-end and retry events into metrics and access log lines', () => {
    const out = new PassThrough();
    const lines: string[] = [];
    out.on('data', (c: Buffer) => lines.push(c.toString()));
    const telemetry = new Telemetry(SELF, { accessLog: out, log, exporterFor: () => new tracing.InMemorySpanExporter() });
    telemetry.configure({ ...effectiveMeshConfig(undefined, 'weft.local'), accessLog: true });
    const record = new RequestRecord('outbound', 'GET');
    Object.assign(record, { path: '/x', source: 'frontend.default', destination: 'orders.default', route: 'orders/0', status: 200, traceId: 'abc' });
    telemetry.events.emit('weft:request-end', { record, durationMs: 12 });
    telemetry.events.emit('weft:retry', { destination: 'orders.default', route: 'orders/0', attempt: 2, reason: 'status 503', byDefault: false });
    telemetry.setGauge('weft_certificate_expiry_seconds', 'Seconds until the certificate expires.', 3600, { identity: SELF.spiffeId });
    const text = telemetry.renderMetrics();
    expect(text).to.contain('weft_requests_total{direction="outbound",source="frontend.default",destination="orders.default",route="orders/0",code="200"} 1');
    expect(text).to.contain('weft_request_duration_seconds_bucket{direction="outbound",destination="orders.default",le="0.025"} 1');
    expect(text).to.contain('weft_retries_total{destination="orders.default",reason="status 503",policy="route"} 1');
    expect(text).to.contain('weft_certificate_expiry_seconds{identity="spiffe://weft.local/ns/default/sa/frontend"} 3600');
    telemetry.removeGauge('weft_certificate_expiry_seconds', { identity: SELF.spiffeId });
    expect(telemetry.renderMetrics()).to.not.contain('weft_certificate_expiry_seconds{');
    expect(JSON.parse(lines[0] ?? '{}')).to.include({ direction: 'outbound', path: '/x', status: 200, trace_id: 'abc', duration_ms: 12 });
  });

  it('counts each request in the series of its labels, gRPC status included, and its duration by direction and destination', () => {
    const telemetry = new Telemetry(SELF, { log });
    const end = (fields: Partial<RequestRecord>, durationMs: number, direction: 'inbound' | 'outbound' = 'outbound'): void => {
      const record = new RequestRecord(direction, 'GET');
      Object.assign(record, { source: 'frontend.default', destination: 'orders.default', route: 'orders/0', status: 200 }, fields);
      telemetry.events.emit('weft:request-end', { record, durationMs });
    };
    end({}, 2);
    end({ status: 503 }, 30);
    end({}, 0.5);
    end({ grpcStatus: '14' }, 4);
    end({ grpcStatus: '0' }, 4);
    end({ grpcStatus: '14' }, 4);
    end({ source: 'billing.default', route: '' }, 700, 'inbound');
    const lines = telemetry.renderMetrics().split('\n');
    expect(lines.filter((l) => l.startsWith('weft_requests_total{'))).to.deep.equal([
      'weft_requests_total{direction="outbound",source="frontend.default",destination="orders.default",route="orders/0",code="200"} 2',
      'weft_requests_total{direction="outbound",source="frontend.default",destination="orders.default",route="orders/0",code="503"} 1',
      'weft_requests_total{direction="outbound",source="frontend.default",destination="orders.default",route="orders/0",code="200",grpc_status="14"} 2',
      'weft_requests_total{direction="outbound",source="frontend.default",destination="orders.default",route="orders/0",code="200",grpc_status="0"} 1',
      'weft_requests_total{direction="inbound",source="billing.default",destination="orders.default",route="",code="200"} 1',
    ]);
    expect(lines).to.include.members([
      // Sub-millisecond buckets: the 0.5 ms request is told apart from the 2 ms ones.
      'weft_request_duration_seconds_bucket{direction="outbound",destination="orders.default",le="0.00025"} 0',
      'weft_request_duration_seconds_bucket{direction="outbound",destination="orders.default",le="0.0005"} 1',
      'weft_request_duration_seconds_bucket{direction="outbound",destination="orders.default",le="0.001"} 1',
      'weft_request_duration_seconds_bucket{direction="outbound",destination="orders.default",le="0.005"} 5',
      'weft_request_duration_seconds_bucket{direction="outbound",destination="orders.default",le="0.05"} 6',
      'weft_request_duration_seconds_count{direction="outbound",destination="orders.default"} 6',
      'weft_request_duration_seconds_bucket{direction="inbound",destination="orders.default",le="0.5"} 0',
      'weft_request_duration_seconds_bucket{direction="inbound",destination="orders.default",le="1"} 1',
      'weft_request_duration_seconds_sum{direction="inbound",destination="orders.default"} 0.7',
    ]);
  });

  it('writes no access log unless the mesh config asks for it, and a failing listener cannot break emit', () => {
    const out = new PassThrough();
    let written = 0;
    out.on('data', () => (written += 1));
    const telemetry = new Telemetry(SELF, { accessLog: out, log });
    telemetry.events.on('weft:request-end', () => {
      throw new Error('listener bug');
    });
    expect(() => telemetry.events.emit('weft:request-end', { record: new RequestRecord('inbound', 'GET'), durationMs: 1 })).to.not.throw();
    expect(written).to.equal(0);
  });
});
