import { request, type IncomingMessage } from 'node:http';
import { connect, type ClientHttp2Session } from 'node:http2';
import { createHash, randomBytes } from 'node:crypto';
import { expect } from 'chai';
import type { WeftEvents } from '../../src/telemetry/events';
import { TestMesh, type Caller, type Instance } from '../scenarios/mesh-fixture';
import { h2Request } from './h2-request';

describe('protocols: HTTP/2 (h2c) and HTTP/1.1 on the same outbound port', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let caller: Caller;
  let files: Instance;
  let session: ClientHttp2Session;
  const inboundProtocols: string[] = [];

  before(async () => {
    mesh = new TestMesh();
    // An HTTP/1.1 app declared as one (--app-protocol http1): it reports the protocol it was spoken
    // to in, and sends a trailer with a checksum.
    files = await mesh.addInstance('files', (req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-app-saw': `HTTP/${req.httpVersion} ${req.url} peer=${String(req.headers['x-weft-peer-identity'])}` });
        res.addTrailers({ 'x-checksum': hash.digest('hex') });
        res.end(`got ${bytes} bytes`);
      });
    }, { appProtocol: 'http1' });
    files.telemetry.events.on('weft:request-end', (e: WeftEvents['weft:request-end']) => inboundProtocols.push(e.record.protocol));
    caller = await mesh.addCaller('frontend');
    mesh.push();
    session = connect(`http://127.0.0.1:${caller.outbound.port}`);
  });
  after(async () => {
    session?.destroy();
    await mesh?.close();
  });

  it('serves an h2c request: HTTP/2 to the peer sidecar, HTTP/1.1 to the app declared to speak it', async () => {
    inboundProtocols.length = 0;
    const res = await h2Request(session, '/report?x=1', 'files');
    expect(res.headers[':status']).to.equal(200);
    expect(res.headers['x-app-saw']).to.equal('HTTP/1.1 /report?x=1 peer=spiffe://weft.local/ns/default/sa/frontend');
    expect(res.body.toString()).to.equal('got 0 bytes');
    expect(inboundProtocols).to.deep.equal(['h2']);
  });

  it('streams an h2c upload and carries the app\'s trailers back to the HTTP/2 client', async () => {
    const upload = randomBytes(1024 * 1024);
    const res = await h2Request(session, '/upload', 'files', upload);
    expect(res.body.toString()).to.equal(`got ${upload.length} bytes`);
    expect(res.trailers?.['x-checksum']).to.equal(createHash('sha256').update(upload).digest('hex'));
  });

  it('serves HTTP/1.1 on the same port, over pooled HTTP/1.1 between the sidecars by default', async () => {
    inboundProtocols.length = 0;
    const res = await caller.send('/plain', { host: 'files' });
    expect(res.status).to.equal(200);
    expect(res.headers['x-app-saw']).to.equal('HTTP/1.1 /plain peer=spiffe://weft.local/ns/default/sa/frontend');
    expect(inboundProtocols).to.deep.equal(['http1']);
  });

  it('carries chunked HTTP/1.1 trailers from the app to an HTTP/1.1 client, too', async () => {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: caller.outbound.port, method: 'POST', path: '/t', headers: { host: 'files' }, agent: false }, (r) => {
        r.resume();
        r.on('end', () => resolve(r));
      });
      req.on('error', reject);
      req.end('abc');
    });
    expect(res.trailers['x-checksum']).to.equal(createHash('sha256').update('abc').digest('hex'));
  });

  it('can carry HTTP/1.1 over one multiplexed HTTP/2 connection between the sidecars (--http1-upstream h2)', async () => {
    const muxed = await mesh.addCaller('reports', { http1Upstream: 'h2' });
    mesh.push();
    inboundProtocols.length = 0;
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => muxed.send(`/r${i}`, { host: 'files', method: 'POST', body: `body-${i}` })));
    expect(results.map((r) => r.status)).to.deep.equal(Array(8).fill(200));
    expect(results.map((r) => r.text())).to.deep.equal(results.map((_, i) => `got ${`body-${i}`.length} bytes`));
    expect(inboundProtocols).to.deep.equal(Array(8).fill('h2'));
  });

  it('answers 400, never crashes, when h2c names no service it can route', async () => {
    const res = await h2Request(session, '/x', 'files:123456');
    expect(res.headers[':status']).to.equal(400);
    expect(res.headers['x-weft-error']).to.equal('WEFT_ERR_BAD_REQUEST');
    // The session still serves the next request.
    expect((await h2Request(session, '/again', 'files')).headers[':status']).to.equal(200);
  });
});
