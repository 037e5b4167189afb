import { connect } from 'node:http2';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import { startOtlpReceiver, type OtlpReceiver } from '@weft/harness';
import { h2Request } from '../protocols/h2-request';
import { resource, TestMesh, type Caller } from './mesh-fixture';

/** JSON access log lines written to a stream, as they come. */
function collectLines(): { readonly out: PassThrough; readonly lines: string[] } {
  const out = new PassThrough();
  const lines: string[] = [];
  out.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter((l) => l !== '')));
  return { out, lines };
}

/** A body sent in three writes without content-length: chunked on HTTP/1.1. */
const CHUNKS = ['a'.repeat(40_000), 'b'.repeat(30_000), 'c'.repeat(123)];
const CHUNKED_BYTES = CHUNKS.reduce((n, c) => n + c.length, 0);

describe('scenario: telemetry', function () {
  this.timeout(30_000);
  let mesh: TestMesh;
  let frontend: Caller;
  let receiver: OtlpReceiver;
  const { out: accessLog, lines } = collectLines();
  const { out: chunkyLog, lines: chunkyLines } = collectLines();

  before(async () => {
    receiver = await startOtlpReceiver();
    mesh = new TestMesh();
    mesh.setMeshConfig({ tracing: { otlpEndpoint: receiver.endpoint, samplingPercent: 100 }, accessLog: true });
    mesh.setResources([
      resource('Route', 'orders', { service: 'orders', rules: [{ retries: { attempts: 2, retryOn: ['5xx'], backoff: { baseInterval: '1ms' } } }] }),
    ]);
    let n = 0;
    await mesh.addInstance('orders', (req, res) => {
      n += 1;
      res.statusCode = req.url === '/flaky' && n % 2 === 1 ? 500 : 200;
      res.end(req.headers['traceparent']);
    });
    await mesh.addInstance('chunky', (_req, res) => {
      res.write(CHUNKS[0]);
      setImmediate(() => {
        res.write(CHUNKS[1]);
        res.end(CHUNKS[2]);
      });
    }, { telemetry: { accessLog: chunkyLog }, appProtocol: 'http1' });
    frontend = await mesh.addCaller('frontend', { telemetry: { accessLog } });
    mesh.push(); // delivers the mesh config to telemetry.configure as the control client would
  });
  after(async () => {
    await mesh.close();
    await receiver.close();
  });

  it('counts requests and latency in the Prometheus text', async () => {
    const res = await frontend.send('/metrics-probe', { host: 'orders' });
    expect(res.status).to.equal(200);
    const text = frontend.telemetry.renderMetrics();
    expect(text).to.contain('# TYPE weft_requests_total counter');
    expect(text).to.match(/weft_requests_total\{direction="outbound",source="frontend\.default",destination="orders\.default",route="orders\/0",code="200"\} [1-9]/);
    expect(text).to.contain('# TYPE weft_request_duration_seconds histogram');
    expect(text).to.contain('weft_request_duration_seconds_bucket{direction="outbound",destination="orders.default",le="+Inf"}');
  });

  it('writes a JSON access log line with the trace and span ids, and nothing secret', async () => {
    const secrets = { authorization: 'Bearer s3cr3t-bearer', cookie: 'session=s3cr3t-cookie', 'x-api-key': 's3cr3t-key' };
    const res = await frontend.send('/logged?access_token=s3cr3t-query', { host: 'orders', headers: secrets });
    const [, traceId, spanId] = res.text().split('-');
    await new Promise((r) => setImmediate(r));
    const raw = lines.find((l) => l.includes(String(traceId)));
    const line = JSON.parse(String(raw)) as Record<string, unknown>;
    expect(line).to.include({ direction: 'outbound', source: 'frontend.default', destination: 'orders.default', route: 'orders/0', method: 'GET', authority: 'orders', path: '/logged', status: 200, attempts: 1 });
    expect(line['trace_id']).to.equal(traceId);
    // span_id is this hop's CLIENT span: the root of the trace, above the spans that reached the app.
    const isRoot = (x: { traceId: string; name: string; parentSpanId: string }): boolean => x.traceId === traceId && x.name === 'outbound orders' && !x.parentSpanId;
    const root = (await receiver.waitForSpans((all) => all.some(isRoot))).find(isRoot);
    expect(line['span_id']).to.equal(root?.spanId).and.to.not.equal(spanId);
    expect(line['bytes_out']).to.equal(Buffer.byteLength(res.text()));
    expect(line['peer_identity']).to.equal('spiffe://weft.local/ns/default/sa/orders');
    expect(line['duration_ms']).to.be.a('number');
    expect(Date.parse(String(line['time']))).to.be.closeTo(Date.now(), 60_000);
    expect(raw).to.not.match(/s3cr3t|access_token/);
  });

  it('logs the bytes actually sent of a chunked HTTP/1.1 body and of an HTTP/2 body without content-length, on both sides', async () => {
    const lineFor = async (list: string[], path: string): Promise<Record<string, unknown>> => {
      for (let i = 0; i < 100 && !list.some((l) => l.includes(`"path":"${path}"`)); i++) await new Promise((r) => setTimeout(r, 10));
      return JSON.parse(String(list.find((l) => l.includes(`"path":"${path}"`)))) as Record<string, unknown>;
    };
    const h1 = await frontend.send('/chunked-h1', { host: 'chunky' });
    expect(h1.headers['transfer-encoding']).to.equal('chunked');
    expect(h1.headers['content-length']).to.equal(undefined);
    expect(h1.body.length).to.equal(CHUNKED_BYTES);
    expect(await lineFor(lines, '/chunked-h1')).to.include({ direction: 'outbound', protocol: 'http1', bytes_out: CHUNKED_BYTES });
    expect(await lineFor(chunkyLines, '/chunked-h1')).to.include({ direction: 'inbound', bytes_out: CHUNKED_BYTES });

    const session = connect(`http://127.0.0.1:${frontend.outbound.port}`);
    try {
      const h2 = await h2Request(session, '/chunked-h2', 'chunky');
      expect(h2.headers['content-length'], `${JSON.stringify(h2.headers)} ${h2.body.toString().slice(0, 300)}`).to.equal(undefined);
      expect(h2.body.length).to.equal(CHUNKED_BYTES);
    } finally {
      session.destroy();
    }
    expect(await lineFor(lines, '/chunked-h2')).to.include({ direction: 'outbound', protocol: 'h2', bytes_out: CHUNKED_BYTES });
    // The peer sidecar answered the HTTP/2 caller's sidecar over HTTP/2 as well.
    expect(await lineFor(chunkyLines, '/chunked-h2')).to.include({ direction: 'inbound', protocol: 'h2', bytes_out: CHUNKED_BYTES });
  });

  it('exports a CLIENT span per request and a child span per attempt, continuing the app trace', async () => {
    const appTrace = 'a'.repeat(32);
    const res = await frontend.send('/flaky', { host: 'orders', headers: { traceparent: `00-${appTrace}-${'b'.repeat(16)}-01` } });
    expect(res.status).to.equal(200);
    const spans = await receiver.waitForSpans((all) => all.filter((s) => s.traceId === appTrace).length >= 3);
    const mine = spans.filter((s) => s.traceId === appTrace);
    const client = mine.find((s) => s.name === 'outbound orders');
    expect(client?.parentSpanId).to.equal('b'.repeat(16));
    expect(client?.serviceName).to.equal('frontend');
    expect(client?.attributes['weft.route']).to.equal('orders/0');
    const attempts = mine.filter((s) => s.name === 'outbound orders attempt');
    expect(attempts.length).to.be.at.least(2);
    for (const a of attempts) expect(a.parentSpanId).to.equal(client?.spanId);
    // The inbound side continues each attempt with a SERVER span; the app sees that span's context.
    const all = await receiver.waitForSpans((list) => list.filter((s) => s.traceId === appTrace && s.name === 'inbound orders').length >= attempts.length);
    const servers = all.filter((s) => s.traceId === appTrace && s.name === 'inbound orders');
    expect(servers.map((s) => s.parentSpanId).sort()).to.deep.equal(attempts.map((a) => a.spanId).sort());
    expect(servers.every((s) => s.serviceName === 'orders' && s.attributes['weft.peer.identity'] === frontend.self.spiffeId)).to.equal(true);
    const [, traceId, spanId] = res.text().split('-');
    expect(traceId).to.equal(appTrace);
    expect(spanId).to.be.oneOf(servers.map((s) => s.spanId));
    // A failed attempt is an error span.
    expect(attempts.some((a) => a.status.code === 2)).to.equal(true);
  });
});
