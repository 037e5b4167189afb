import type { Readable } from 'node:stream';
import { createLogger } from '@weft/api';
import { expect } from 'chai';
import { NoEndpointsError } from '../../src/layers/errors';
import type { HeaderMap } from '../../src/layers/service';
import { Tracing, type SpanAttributes, type SpanAttributesOf, type TraceSpan } from '../../src/telemetry/trace';
import { httpRouteOf, traceAttempt, traceClient, traceServer } from '../../src/telemetry/trace-layers';
import type { TraceParent } from '../../src/telemetry/traceparent';
import { record, response } from '../layers/fakes';
import { CollectingExporter } from './collecting-exporter';

/** A tracer that hands out numbered spans and remembers what happened to them. */
class FakeTracing {
  readonly started: { name: string; kind: string; parent: TraceParent | undefined; attrs: SpanAttributes }[] = [];
  readonly ended: { name: string; status: number | undefined; error: string | undefined }[] = [];
  /** Attributes set after the start, by span name. */
  readonly set = new Map<string, SpanAttributes>();
  #n = 0;

  startSpan<S>(name: string, kind: 'client' | 'server', parent: TraceParent | undefined, attributesOf: SpanAttributesOf<S>, subject: S): TraceSpan {
    this.started.push({ name, kind, parent, attrs: attributesOf(subject) });
    return this.#span(name, parent?.traceId ?? 'f'.repeat(32));
  }

  #span(name: string, traceId: string): TraceSpan {
    const id = (++this.#n).toString(16).padStart(16, '0');
    return {
      traceId,
      traceparent: `00-${traceId}-${id}-01`,
      recording: true,
      setAttributes: (attributes) => void this.set.set(name, { ...this.set.get(name), ...attributes }),
      addEvent: () => undefined,
      child: (childName) => this.#span(childName, traceId),
      end: (status, error) => void this.ended.push({ name, status, error }),
    };
  }
}

describe('telemetry/trace-layers (fake next)', () => {
  const T = 'a'.repeat(32);
  const req = (headers: HeaderMap = {}, grpc = false, path = '/x') => ({ method: 'GET', path, grpc, headers, record: record(), socket: null });
  const rule = { name: 'orders/0', destination: { key: 'orders.default', service: 'orders', spiffeId: 'spiffe://weft.local/ns/default/sa/orders' }, matches: [{ path: { kind: 'prefix' as const, value: '/orders/' } }] };

  it('traceClient continues the app trace and sends its own context upstream, ending with the body', async () => {
    const tracing = new FakeTracing();
    let upstream: string | string[] | undefined;
    const r = req({ traceparent: `00-${T}-${'b'.repeat(16)}-01` });
    const res = await traceClient(rule, tracing, async (q) => {
      upstream = q.headers['traceparent'];
      return response(200, 'body');
    })(r);
    expect(tracing.started[0]).to.deep.include({ name: 'outbound orders', kind: 'client', parent: { traceId: T, spanId: 'b'.repeat(16), flags: 1 } });
    expect(tracing.started[0]?.attrs).to.include({ 'weft.route': 'orders/0', 'http.request.method': 'GET' });
    expect(upstream).to.equal(`00-${T}-0000000000000001-01`);
    expect(r.record.traceId).to.equal(T);
    expect(tracing.ended).to.have.length(0); // still streaming
    (res.body as Readable | null)?.resume();
    await new Promise((resolve) => (res.body as Readable | null)?.on('close', resolve));
    expect(tracing.ended).to.deep.equal([{ name: 'outbound orders', status: 200, error: undefined }]);
  });

  it('traceClient names a gRPC call by the RPC conventions and records its status and the attempts made', async () => {
    const tracing = new FakeTracing();
    const r = req({}, true, '/weft.test.Greeter/SayHello');
    r.record.authority = 'orders';
    r.record.source = 'frontend.default';
    const res = await traceClient(rule, tracing, async () => {
      r.record.attempts = 2;
      return { status: 200, headers: { 'grpc-status': '14' }, body: null };
    })(r);
    expect(res.status).to.equal(200);
    expect(tracing.started[0]?.attrs).to.deep.equal({
      'http.request.method': 'GET',
      'http.route': '/orders/*',
      'url.path': '/weft.test.Greeter/SayHello',
      'server.address': 'orders',
      'weft.source': 'frontend.default',
      'weft.destination': 'orders.default',
      'weft.destination.service': 'orders',
      'weft.route': 'orders/0',
      'weft.peer.identity': rule.destination.spiffeId,
      'rpc.system': 'grpc',
      'rpc.service': 'weft.test.Greeter',
      'rpc.method': 'SayHello',
    });
    expect(tracing.set.get('outbound orders')).to.deep.equal({ 'weft.attempts': 2, 'weft.retried': true, 'rpc.grpc.status_code': 14 });
    // The hop's own context is on the record, for the access log's span_id.
    expect(r.record.traceparent).to.equal(`00-${'f'.repeat(32)}-0000000000000001-01`);
  });

  it('traceClient ends the span with the error status and code', async () => {
    const tracing = new FakeTracing();
    const err = await traceClient(rule, tracing, () => Promise.reject(NoEndpointsError.noneReady('orders.default', undefined)))(req()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(NoEndpointsError);
    expect(tracing.ended).to.deep.equal([{ name: 'outbound orders', status: 503, error: 'WEFT_ERR_NO_ENDPOINTS' }]);
  });

  it('traceAttempt makes one child span per attempt and sends that context upstream', async () => {
    const tracing = new FakeTracing();
    const parent = tracing.startSpan('outbound orders', 'client', undefined, () => ({}), undefined);
    const sent: (string | string[] | undefined)[] = [];
    const svc = traceAttempt('outbound orders', async (q: { headers: HeaderMap; span: TraceSpan; attempt: { number: number; avoid: undefined; endpoint: string | undefined } }) => {
      sent.push(q.headers['traceparent']);
      return { status: 503, headers: {}, body: null };
    });
    for (const number of [1, 2]) await svc({ headers: {}, span: parent, attempt: { number, avoid: undefined, endpoint: undefined } });
    expect(sent).to.deep.equal([`00-${'f'.repeat(32)}-0000000000000002-01`, `00-${'f'.repeat(32)}-0000000000000003-01`]);
    expect(tracing.ended.map((e) => [e.name, e.status])).to.deep.equal([
      ['outbound orders attempt', 503],
      ['outbound orders attempt', 503],
    ]);
  });

  it('traceServer starts a SERVER span for the caller context and passes its own to the app', async () => {
    const tracing = new FakeTracing();
    let toApp: string | string[] | undefined;
    const socket = { remoteAddress: '127.0.0.7', remotePort: 40123, localPort: 15006 };
    const r = { ...req({ traceparent: `00-${T}-${'c'.repeat(16)}-01` }), socket };
    r.record.peerIdentity = 'spiffe://weft.local/ns/default/sa/frontend';
    await traceServer('orders', tracing, async (q) => {
      toApp = q.headers['traceparent'];
      return { status: 204, headers: {}, body: null };
    })(r);
    expect(tracing.started[0]).to.deep.include({ name: 'inbound orders', kind: 'server' });
    expect(tracing.started[0]?.attrs).to.include({
      'weft.peer.identity': 'spiffe://weft.local/ns/default/sa/frontend',
      'server.port': 15006,
      'client.address': '127.0.0.7',
      'network.peer.address': '127.0.0.7',
      'network.peer.port': 40123,
    });
    expect(toApp).to.equal(`00-${T}-0000000000000001-01`);
    expect(tracing.ended).to.deep.equal([{ name: 'inbound orders', status: 204, error: undefined }]);
  });
});

describe('http.route of a rule', () => {
  const rows: [string, Parameters<typeof httpRouteOf>[0], string][] = [
    ['no match entries: any path', [], '/*'],
    ['an exact path', [{ path: { kind: 'exact', value: '/health' } }], '/health'],
    ['a prefix, with *', [{ path: { kind: 'prefix', value: '/api/' } }], '/api/*'],
    ['a regex, as written', [{ path: { kind: 'regex', source: '/r/[0-9]+' } }], '/r/[0-9]+'],
    ['several, each once', [{ path: { kind: 'exact', value: '/a' } }, { path: { kind: 'prefix', value: '/b' } }, { path: { kind: 'exact', value: '/a' } }], '/a | /b*'],
    ['an entry without a path (headers only): any path', [{ path: { kind: 'exact', value: '/a' } }, { path: undefined }], '/*'],
  ];
  for (const [what, matches, expected] of rows) it(what, () => expect(httpRouteOf(matches)).to.equal(expected));
});

describe('telemetry/trace-layers (real Tracing, a client and a server sidecar)', () => {
  const T = 'd'.repeat(32);
  const CALLER = 'e'.repeat(16);
  const rule = { name: 'orders/0', destination: { key: 'orders.default', service: 'orders', spiffeId: 'spiffe://weft.local/ns/default/sa/orders' }, matches: [{ path: { kind: 'prefix' as const, value: '/orders/' } }] };
  const log = createLogger('test');
  let clientSpans: CollectingExporter;
  let serverSpans: CollectingExporter;
  let client: Tracing;
  let server: Tracing;
  beforeEach(() => {
    clientSpans = new CollectingExporter();
    serverSpans = new CollectingExporter();
    client = new Tracing({ 'service.name': 'frontend' }, log, () => clientSpans);
    server = new Tracing({ 'service.name': 'orders' }, log, () => serverSpans);
    for (const t of [client, server]) t.configure({ otlpEndpoint: 'collector:4317', samplingPercent: 0 });
  });
  afterEach(() => Promise.all([client.shutdown(), server.shutdown()]));

  /** One request from the app through both sidecars' span layers; returns what each hop received. */
  async function hop(appTraceparent: string): Promise<{ upstream: string; toApp: string; clientTraceId: string; serverTraceId: string }> {
    let upstream = '';
    let toApp = '';
    const serverRecord = { ...record(), peerIdentity: 'spiffe://weft.local/ns/default/sa/frontend' };
    const inbound = traceServer('orders', server, async (q) => {
      toApp = String(q.headers['traceparent']);
      return response(200, 'ok');
    });
    const outbound = traceClient(rule, client, async (q) => {
      upstream = String(q.headers['traceparent']);
      return inbound({ method: q.method, path: q.path, grpc: false, headers: { traceparent: upstream }, record: serverRecord, socket: null });
    });
    const clientRecord = record();
    const res = await outbound({ method: 'GET', path: '/orders/1', grpc: false, headers: { traceparent: appTraceparent }, record: clientRecord });
    (res.body as Readable | null)?.resume();
    await new Promise((resolve) => (res.body as Readable | null)?.on('close', resolve));
    return { upstream, toApp, clientTraceId: clientRecord.traceId, serverTraceId: serverRecord.traceId };
  }

  it('an unsampled request at 0% records nothing; each hop gets the caller trace with a new span id and flags 00', async () => {
    const seen = await hop(`00-${T}-${CALLER}-00`);
    expect(seen.upstream).to.match(new RegExp(`^00-${T}-[0-9a-f]{16}-00$`)).and.not.contain(CALLER);
    expect(seen.toApp).to.match(new RegExp(`^00-${T}-[0-9a-f]{16}-00$`)).and.not.equal(seen.upstream);
    expect([seen.clientTraceId, seen.serverTraceId]).to.deep.equal([T, T]);
    await Promise.all([client.shutdown(), server.shutdown()]);
    expect(clientSpans.spans).to.have.length(0);
    expect(serverSpans.spans).to.have.length(0);
  });

  it('a sampled caller is recorded on both hops even at 0%, each span under the one before', async () => {
    const seen = await hop(`00-${T}-${CALLER}-01`);
    await Promise.all([client.shutdown(), server.shutdown()]);
    const [clientSpan] = clientSpans.spans;
    const [serverSpan] = serverSpans.spans;
    expect(clientSpans.spans).to.have.length(1);
    expect(serverSpans.spans).to.have.length(1);
    expect(clientSpan?.name).to.equal('outbound orders');
    expect(clientSpan?.parentSpanContext?.spanId).to.equal(CALLER);
    expect(clientSpan?.attributes['weft.route']).to.equal('orders/0');
    expect(seen.upstream).to.equal(`00-${T}-${clientSpan?.spanContext().spanId}-01`);
    expect(serverSpan?.parentSpanContext?.spanId).to.equal(clientSpan?.spanContext().spanId);
    expect(serverSpan?.attributes['weft.peer.identity']).to.equal('spiffe://weft.local/ns/default/sa/frontend');
    expect(seen.toApp).to.equal(`00-${T}-${serverSpan?.spanContext().spanId}-01`);
    expect(clientSpan?.attributes['http.response.status_code']).to.equal(200);
  });
});
