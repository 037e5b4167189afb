import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { Mesh, SPAN_KIND, STATUS_CODE, startOtlpReceiver, waitFor, type CollectedSpan, type OtlpReceiver, type Sidecar } from '@weft/harness';
import { API, apply, callVia, sidecarConfig, startEchoApp, startMeshedEchoApp, type EchoApp } from './fixtures';

const traceparentOf = (traceId: string, spanId: string): string => `00-${traceId}-${spanId}-01`;

function byId(spans: readonly CollectedSpan[]): Map<string, CollectedSpan> {
  return new Map(spans.map((s) => [s.spanId, s]));
}

describe('tracing: spans from every hop reach an OTLP/gRPC receiver', function () {
  this.timeout(60_000);
  const mesh = new Mesh();
  let receiver: OtlpReceiver;
  const apps: EchoApp[] = [];
  let inventoryApp: EchoApp;
  let client: Sidecar;
  let inventory: Sidecar;

  before(async () => {
    receiver = await startOtlpReceiver();
    await mesh.startControlPlane();
    await apply(
      mesh,
      `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "${receiver.endpoint}", samplingPercent: 100}}\n---\n` +
        `${API}\nkind: Route\nmetadata: {name: inventory}\nspec:\n  service: inventory\n  rules:\n` +
        `  - match: [{path: {prefix: /fault}}]\n    fault: {abort: {percent: 100, httpStatus: 418}}\n` +
        `  - retries: {attempts: 2, retryOn: [5xx], backoff: {baseInterval: 5ms, maxInterval: 20ms}}\n`,
    );
    [{ sidecar: client }, { app: inventoryApp, sidecar: inventory }] = await Promise.all([startMeshedEchoApp(mesh, apps, { service: 'client' }), startMeshedEchoApp(mesh, apps, { service: 'inventory' })]);
    await waitFor('client to reach inventory', async () => ((await callVia(client, 'inventory')).status === 200 ? true : undefined), 15_000);
  });

  after(async () => {
    await mesh.close();
    await Promise.all([receiver?.close(), ...apps.map((a) => a.close())]);
  });

  it("continues the app's trace: one trace ID, CLIENT -> attempt -> SERVER -> app, correctly parented", async () => {
    const traceId = randomBytes(16).toString('hex');
    const appSpanId = randomBytes(8).toString('hex');
    const res = await callVia(client, 'inventory', { path: '/stock', headers: { traceparent: traceparentOf(traceId, appSpanId) } });
    expect(res.status).to.equal(200);

    // Three processes export on their own schedules: wait for the client span, its attempt and the server span.
    const spans = await receiver.waitForSpans((all) => all.filter((s) => s.traceId === traceId).length >= 3 && all.some((s) => s.traceId === traceId && s.kind === SPAN_KIND.CLIENT && s.parentSpanId === appSpanId), 15_000);
    const trace = spans.filter((s) => s.traceId === traceId);
    const clientSpan = trace.find((s) => s.kind === SPAN_KIND.CLIENT && s.serviceName === 'client' && s.parentSpanId === appSpanId);
    expect(clientSpan, `no CLIENT span from the client sidecar under the app's span: ${JSON.stringify(trace.map((s) => [s.name, s.serviceName, s.kind]))}`).to.not.equal(undefined);
    const serverSpan = trace.find((s) => s.kind === SPAN_KIND.SERVER && s.serviceName === 'inventory');
    expect(serverSpan, 'no SERVER span from the inventory sidecar').to.not.equal(undefined);

    // The SERVER span hangs under the attempt that carried it, which hangs under the CLIENT span.
    const parents = byId(trace);
    const attempt = parents.get(serverSpan!.parentSpanId);
    expect(attempt?.serviceName).to.equal('client');
    expect(attempt?.parentSpanId).to.equal(clientSpan!.spanId);

    // The app behind the inbound sidecar is handed the SERVER span's context, so its own spans nest.
    const seen = inventoryApp.received.find((r) => r.url === '/stock');
    expect(seen?.headers['traceparent']).to.match(new RegExp(`^00-${traceId}-${serverSpan!.spanId}-01$`));

    // Both sidecars stamp spans from the same wall clock, so the SERVER span starts within its
    // CLIENT span: after it started (the request left the client sidecar after that) and before it
    // ended (the client waited for the answer the server span came before). Both bounds are causal,
    // whatever the scheduler did; clocks that disagreed by more than the request took would break
    // one. (The SERVER span's end is stamped after its last byte is written, so on a loaded machine
    // it may come after the client's end by however long the server sidecar waited for a core.)
    expect(serverSpan!.startTimeUnixNano >= clientSpan!.startTimeUnixNano, 'server span starts before its client span').to.equal(true);
    expect(serverSpan!.startTimeUnixNano <= clientSpan!.endTimeUnixNano, 'server span starts after its client span ended').to.equal(true);
  });

  it('shows every retry: one attempt span per try, the failed one marked, each with its own SERVER span', async () => {
    const traceId = randomBytes(16).toString('hex');
    inventoryApp.failNext(1);
    const res = await callVia(client, 'inventory', { headers: { traceparent: traceparentOf(traceId, randomBytes(8).toString('hex')) } });
    expect(res.status).to.equal(200);
    expect(res.headers['x-weft-attempts']).to.equal('2');

    // Two SERVER spans, two attempts and the CLIENT span: five, from two processes exporting on their own schedules.
    const spans = await receiver.waitForSpans((all) => all.filter((s) => s.traceId === traceId).length >= 5, 15_000);
    const trace = spans.filter((s) => s.traceId === traceId);
    const clientSpan = trace.find((s) => s.kind === SPAN_KIND.CLIENT && s.serviceName === 'client' && trace.every((p) => p.spanId !== s.parentSpanId));
    const attempts = trace.filter((s) => s.parentSpanId === clientSpan?.spanId);
    expect(attempts).to.have.length(2);
    const servers = trace.filter((s) => s.kind === SPAN_KIND.SERVER);
    expect(servers.map((s) => s.parentSpanId).sort()).to.deep.equal(attempts.map((a) => a.spanId).sort());
    const statuses = servers.map((s) => s.attributes['http.response.status_code']).sort();
    expect(statuses).to.deep.equal([200, 503]);
    expect(attempts.map((a) => a.status.code).sort()).to.deep.equal([STATUS_CODE.UNSET, STATUS_CODE.ERROR].sort());
    expect(attempts.find((a) => a.status.code === STATUS_CODE.ERROR)?.status.message).to.equal('HTTP 503');
  });

  it('starts a trace when the app sends none, and hands its context to the app', async () => {
    const before = inventoryApp.received.length;
    expect((await callVia(client, 'inventory', { path: '/fresh' })).status).to.equal(200);
    const tp = inventoryApp.received.slice(before).find((r) => r.url === '/fresh')?.headers['traceparent'];
    const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(String(tp));
    expect(match, `the app got traceparent ${String(tp)}`).to.not.equal(null);
    await receiver.waitForSpans((all) => all.some((s) => s.traceId === match![1] && s.spanId === match![2] && s.kind === SPAN_KIND.SERVER), 15_000);
  });

  it('labels spans by the OpenTelemetry HTTP conventions and weft.* (who called whom, route, attempts, fault)', async () => {
    const traceId = randomBytes(16).toString('hex');
    inventoryApp.failNext(1);
    expect((await callVia(client, 'inventory', { path: '/stock?sku=1', headers: { traceparent: traceparentOf(traceId, randomBytes(8).toString('hex')) } })).status).to.equal(200);
    const spans = await receiver.waitForSpans((all) => all.filter((s) => s.traceId === traceId).length >= 5, 15_000);
    const trace = spans.filter((s) => s.traceId === traceId);
    const clientSpan = trace.find((s) => s.name === 'outbound inventory');
    expect(clientSpan?.attributes).to.deep.include({
      'http.request.method': 'GET',
      // The matched rule's path match as a template; the retry rule matches every path.
      'http.route': '/*',
      'url.path': '/stock',
      'server.address': 'inventory',
      'http.response.status_code': 200,
      'weft.source': 'client.default',
      'weft.destination': 'inventory.default',
      'weft.destination.service': 'inventory',
      'weft.route': 'inventory/1',
      'weft.peer.identity': 'spiffe://weft.local/ns/default/sa/inventory',
      'weft.attempts': 2,
      'weft.retried': true,
    });
    const serverSpan = trace.find((s) => s.kind === SPAN_KIND.SERVER && s.attributes['http.response.status_code'] === 200);
    expect(serverSpan?.attributes).to.deep.include({
      'http.request.method': 'GET',
      'url.path': '/stock',
      'server.address': 'inventory',
      'server.port': inventory.inboundPort,
      // The caller is the client's sidecar, on loopback here.
      'client.address': '127.0.0.1',
      'network.peer.address': '127.0.0.1',
      'weft.source': 'client.default',
      'weft.destination': 'inventory.default',
      'weft.peer.identity': 'spiffe://weft.local/ns/default/sa/client',
    });
    expect(serverSpan?.attributes['network.peer.port']).to.be.a('number').and.not.equal(inventory.inboundPort);
    // The query string is not a span attribute (url.path only): it often carries tokens.
    expect(JSON.stringify(trace.map((s) => s.attributes))).to.not.include('sku=1');

    const faultTrace = randomBytes(16).toString('hex');
    expect((await callVia(client, 'inventory', { path: '/fault/x', headers: { traceparent: traceparentOf(faultTrace, randomBytes(8).toString('hex')) } })).status).to.equal(418);
    const [faulted] = await receiver.waitForSpans((all) => all.some((s) => s.traceId === faultTrace), 15_000).then((all) => all.filter((s) => s.traceId === faultTrace));
    expect(faulted?.attributes).to.deep.include({ 'weft.fault': 'abort', 'weft.route': 'inventory/0', 'http.route': '/fault*', 'http.response.status_code': 418 });
  });

  it('marks on the CLIENT span each ejected endpoint the balancer skipped', async () => {
    // A second inventory instance whose app always fails; one failure ejects it (outlier detection).
    const brokenApp = await startEchoApp('inventory-broken');
    try {
      brokenApp.failNext(1_000_000);
      await apply(mesh, `${API}\nkind: ServicePolicy\nmetadata: {name: inventory}\nspec: {service: inventory, outlierDetection: {consecutiveErrors: 1, baseEjectionTime: 5m}}\n`);
      const broken = await mesh.startSidecar({ service: 'inventory', appPort: brokenApp.port, token: await mesh.createToken('inventory'), controlPlane: mesh.controlPlane.endpoint });
      const brokenAddress = `127.0.0.1:${broken.inboundPort}`;
      await waitFor('the client to run a config with both inventory endpoints', async () => {
        const text = JSON.stringify(await sidecarConfig(client));
        return text.includes(brokenAddress) && text.includes('outlierDetection') ? true : undefined;
      }, 30_000);
      // Round robin reaches the broken endpoint within two requests; the Route's retry still answers 200.
      await waitFor('the broken endpoint to be tried (and so ejected)', async () => {
        expect((await callVia(client, 'inventory', { path: '/to-eject' })).status).to.equal(200);
        return brokenApp.received.some((r) => r.url === '/to-eject') ? true : undefined;
      }, 15_000);

      const traceId = randomBytes(16).toString('hex');
      expect((await callVia(client, 'inventory', { path: '/after-ejection', headers: { traceparent: traceparentOf(traceId, randomBytes(8).toString('hex')) } })).status).to.equal(200);
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.traceId === traceId && s.name === 'outbound inventory'), 15_000);
      const clientSpan = spans.find((s) => s.traceId === traceId && s.name === 'outbound inventory');
      expect(clientSpan?.events).to.deep.include({ name: 'weft.endpoint_skipped', attributes: { 'weft.endpoint': brokenAddress, 'weft.reason': 'ejected' } });
      // The healthy endpoint was used, and is never reported as skipped.
      expect(clientSpan?.events.filter((e) => e.attributes['weft.endpoint'] !== brokenAddress && e.name === 'weft.endpoint_skipped')).to.deep.equal([]);
    } finally {
      await brokenApp.close();
    }
  });

  it('passes tracestate and baggage on unchanged, and continues a B3 trace from an app instrumented the older way', async () => {
    const traceId = randomBytes(16).toString('hex');
    const tracestate = 'vendor1=opaque-value,congo=t61rcWkgMzE';
    const baggage = 'userId=alice,serverNode=DF%2028,isProduction=false';
    await callVia(client, 'inventory', { path: '/w3c', headers: { traceparent: traceparentOf(traceId, randomBytes(8).toString('hex')), tracestate, baggage } });
    const seen = inventoryApp.received.find((r) => r.url === '/w3c');
    expect(seen?.headers['tracestate']).to.equal(tracestate);
    expect(seen?.headers['baggage']).to.equal(baggage);
    expect(String(seen?.headers['traceparent'])).to.match(new RegExp(`^00-${traceId}-`));

    for (const [name, headers] of [
      ['b3', (t: string, s: string) => ({ b3: `${t}-${s}-1` })],
      ['x-b3', (t: string, s: string) => ({ 'x-b3-traceid': t, 'x-b3-spanid': s, 'x-b3-sampled': '1' })],
    ] as const) {
      const b3Trace = randomBytes(16).toString('hex');
      const b3Span = randomBytes(8).toString('hex');
      await callVia(client, 'inventory', { path: `/${name}`, headers: headers(b3Trace, b3Span) });
      // The app behind the inbound sidecar is in the same trace, as a W3C context.
      expect(String(inventoryApp.received.find((r) => r.url === `/${name}`)?.headers['traceparent']), name).to.match(new RegExp(`^00-${b3Trace}-[0-9a-f]{16}-01$`));
      const spans = await receiver.waitForSpans((all) => all.some((s) => s.traceId === b3Trace && s.parentSpanId === b3Span), 15_000);
      expect(spans.find((s) => s.traceId === b3Trace && s.parentSpanId === b3Span)?.name, name).to.equal('outbound inventory');
    }
  });

  it('follows samplingPercent changed live: 0 records nothing new, 100 records every new trace', async () => {
    const inForce = async (percent: number): Promise<void> => {
      const before = (await sidecarConfig(client)).config.version;
      await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "${receiver.endpoint}", samplingPercent: ${percent}}}\n`);
      await waitFor(`samplingPercent ${percent} to be in force`, async () => ((await sidecarConfig(client)).config.version !== before ? true : undefined));
    };
    const flagsSeen = async (path: string): Promise<string> => {
      await callVia(client, 'inventory', { path });
      return String(inventoryApp.received.find((r) => r.url === path)?.headers['traceparent']).slice(-2);
    };
    await inForce(0);
    expect(await Promise.all(['/s0a', '/s0b', '/s0c'].map(flagsSeen))).to.deep.equal(['00', '00', '00']);
    await inForce(100);
    expect(await Promise.all(['/s1a', '/s1b', '/s1c'].map(flagsSeen))).to.deep.equal(['01', '01', '01']);
  });

  it('never fails or holds up a request when the trace receiver is gone', async () => {
    // Point tracing at a port nobody listens on; requests must be unaffected.
    const before = (await sidecarConfig(client)).config.version;
    await apply(mesh, `${API}\nkind: MeshConfig\nmetadata: {name: default}\nspec: {tracing: {otlpEndpoint: "127.0.0.1:9", samplingPercent: 100}}\n`);
    await waitFor('the new MeshConfig to be in force', async () => ((await sidecarConfig(client)).config.version !== before ? true : undefined));
    const results = await Promise.all(Array.from({ length: 50 }, () => callVia(client, 'inventory', { timeoutMs: 5000 })));
    expect(results.filter((r) => r.status !== 200)).to.deep.equal([]);
  });
});
