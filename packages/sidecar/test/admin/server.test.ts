import { expect } from 'chai';
import * as http from 'node:http';
import { recordingLogger } from '@weft/harness';
import { AdminServer, type AdminHandlers, type Readiness } from '../../src/admin/server';
import { request } from './http';

describe('AdminServer', () => {
  let admin: AdminServer | undefined;
  let readiness: Readiness = { ready: false, reason: 'waiting for the first config from the control plane' };
  let view: unknown = { proxyId: 'p1' };
  const handlers: AdminHandlers = {
    readiness: () => readiness,
    configView: () => view,
    metrics: () => '# HELP weft_ready x\n# TYPE weft_ready gauge\nweft_ready 1\n',
  };

  beforeEach(async () => {
    admin = await AdminServer.start({ host: '127.0.0.1', port: 0, handlers, logger: recordingLogger() });
  });
  afterEach(async () => {
    await admin?.close();
  });

  it('answers /live always, and /ready 503 with a reason until ready', async () => {
    const port = admin!.port;
    expect((await request(port, '/live')).status).to.equal(200);
    const notReady = await request(port, '/ready');
    expect(notReady.status).to.equal(503);
    expect(notReady.body).to.equal('not ready: waiting for the first config from the control plane\n');
    readiness = { ready: true };
    expect((await request(port, '/ready')).status).to.equal(200);
    readiness = { ready: false, reason: 'draining' };
    expect((await request(port, '/ready?verbose=1')).body).to.include('draining');
  });

  it('serves /config as JSON and /metrics as Prometheus text', async () => {
    const port = admin!.port;
    view = { proxyId: 'p1', nested: { n: 1 } };
    const config = await request(port, '/config');
    expect(config.status).to.equal(200);
    expect(config.headers['content-type']).to.match(/^application\/json/);
    expect(JSON.parse(config.body)).to.deep.equal(view);
    const metrics = await request(port, '/metrics');
    expect(metrics.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
    expect(metrics.body).to.include('weft_ready 1');
  });

  it('refuses to serve a /config that would contain a private key', async () => {
    view = { oops: '-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n' };
    const res = await request(admin!.port, '/config');
    expect(res.status).to.equal(500);
    expect(res.body).not.to.include('MIIE');
  });

  it('answers 404 for unknown paths and 405 (with Allow) for other methods', async () => {
    const port = admin!.port;
    expect((await request(port, '/nope')).status).to.equal(404);
    const post = await request(port, '/ready', 'POST');
    expect(post.status).to.equal(405);
    expect(post.headers['allow']).to.equal('GET, HEAD');
    const head = await request(port, '/live', 'HEAD');
    expect(head.status).to.equal(200);
    expect(head.body).to.equal('');
  });

  it('closes even with keep-alive connections open', async () => {
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve) => http.get({ host: '127.0.0.1', port: admin!.port, path: '/live', agent }, (res) => res.resume().on('end', resolve)));
    await admin!.close();
    admin = undefined;
    agent.destroy();
  });
});
