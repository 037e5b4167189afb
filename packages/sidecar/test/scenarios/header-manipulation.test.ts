import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import type { IncomingHttpHeaders } from 'node:http';
import { resource, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: request and response header manipulation', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;
  let seen: IncomingHttpHeaders = {};

  before(async () => {
    mesh = new TestMesh();
    await mesh.addInstance('profile', (req, res) => {
      seen = req.headers;
      res.setHeader('server', 'profile/1.2.3');
      res.setHeader('x-internal-trace', 'secret');
      res.setHeader('cache-control', 'public, max-age=60');
      res.end('profile');
    });
    mesh.setResources([
      resource('Route', 'profile', {
        service: 'profile',
        rules: [
          {
            headers: {
              request: { set: { 'X-Tenant': 'blue' }, add: { 'x-trail': 'mesh' }, remove: ['x-debug'] },
              response: { set: { 'Cache-Control': 'no-store' }, add: { 'x-served-by': 'weft' }, remove: ['server', 'x-internal-trace'] },
            },
          },
        ],
      }),
    ]);
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('shows the app the changed request, and the client the changed response', async () => {
    const res = await frontend.send('/me', { host: 'profile', headers: { 'x-tenant': 'red', 'x-trail': 'app', 'x-debug': 'on', accept: 'text/plain' } });
    expect(res.status).to.equal(200);
    expect(seen['x-tenant']).to.equal('blue');
    expect(seen['x-trail']).to.equal('app, mesh');
    expect(seen['x-debug']).to.equal(undefined);
    expect(seen['accept']).to.equal('text/plain');
    expect(seen[HEADERS.peerIdentity], 'mesh headers stay the mesh business').to.equal('spiffe://weft.local/ns/default/sa/frontend');
    expect(res.headers['cache-control']).to.equal('no-store');
    expect(res.headers['x-served-by']).to.equal('weft');
    expect(res.headers['server']).to.equal(undefined);
    expect(res.headers['x-internal-trace']).to.equal(undefined);
  });
});
