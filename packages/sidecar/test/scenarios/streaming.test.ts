import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import { resource, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: streaming bodies', function () {
  this.timeout(30_000);
  let mesh: TestMesh;
  let frontend: Caller;
  let received: { bytes: number; sha: string }[] = [];

  before(async () => {
    mesh = new TestMesh();
    await mesh.addInstance('files', (req, res) => {
      if (req.url === '/download') {
        // 5 MB in 64 KiB chunks, with back-pressure, without Content-Length (chunked).
        let left = 80;
        const chunk = Buffer.alloc(64 * 1024, 7);
        const write = (): void => {
          while (left > 0) {
            left -= 1;
            if (!res.write(chunk)) return void res.once('drain', write);
          }
          res.end();
        };
        write();
        return;
      }
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
        res.write(c); // echo while still receiving: both directions stream at once
      });
      req.on('end', () => {
        received.push({ bytes, sha: hash.digest('hex') });
        res.end();
      });
    });
    mesh.setResources([resource('Route', 'files', { service: 'files', rules: [{ retries: { attempts: 2, retryOn: ['5xx'] } }] })]);
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('streams a 5 MB upload and its echo both ways', async () => {
    const body = randomBytes(5 * 1024 * 1024);
    const res = await frontend.send('/upload', { host: 'files', method: 'POST', body });
    expect(res.status).to.equal(200);
    expect(res.body.length).to.equal(body.length);
    expect(res.body.equals(body)).to.equal(true);
    expect(received.at(-1)?.sha).to.equal(createHash('sha256').update(body).digest('hex'));
    // Larger than the replay buffer: sent once, not retried.
    expect(res.headers[HEADERS.attempts]).to.equal(undefined);
  });

  it('streams a chunked upload of unknown length past the replay cap', async () => {
    received = [];
    const chunk = randomBytes(256 * 1024);
    const res = await new Promise<{ status: number; bytes: number }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: frontend.outbound.port, path: '/chunked', method: 'PUT', headers: { host: 'files' }, agent: false }, (r) => {
        let bytes = 0;
        r.on('data', (c: Buffer) => (bytes += c.length));
        r.on('end', () => resolve({ status: r.statusCode ?? 0, bytes }));
      });
      req.on('error', reject);
      for (let i = 0; i < 8; i++) req.write(chunk);
      req.end();
    });
    expect(res.status).to.equal(200);
    expect(res.bytes).to.equal(8 * chunk.length);
    expect(received[0]?.bytes).to.equal(8 * chunk.length);
  });

  it('streams a 5 MB download', async () => {
    const res = await frontend.send('/download', { host: 'files' });
    expect(res.status).to.equal(200);
    expect(res.body.length).to.equal(80 * 64 * 1024);
  });
});
