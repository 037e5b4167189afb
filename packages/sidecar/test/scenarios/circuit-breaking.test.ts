import { HEADERS } from '@weft/api';
import { expect } from 'chai';
import type { ServerResponse } from 'node:http';
import { delay, resource, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: circuit breaking (connection pool limits)', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;
  /** Responses the slow app holds until the test releases them. */
  const held: ServerResponse[] = [];

  before(async () => {
    mesh = new TestMesh();
    await mesh.addInstance('reports', (req, res) => {
      if (req.url === '/slow') held.push(res);
      else res.end('fast');
    });
    mesh.setResources([resource('ServicePolicy', 'reports', { service: 'reports', connectionPool: { maxConnections: 2, maxPendingRequests: 1 } })]);
    frontend = await mesh.addCaller('frontend');
  });
  after(() => {
    for (const res of held.splice(0)) res.end();
    return mesh.close();
  });

  it('queues up to maxPendingRequests and answers the rest at once with 503 WEFT_ERR_OVERFLOW', async () => {
    const inFlight = [frontend.send('/slow', { host: 'reports' }), frontend.send('/slow', { host: 'reports' })];
    while (held.length < 2) await delay(5);
    const queued = frontend.send('/slow', { host: 'reports' });
    await delay(50);
    const started = Date.now();
    const overflow = await Promise.all([frontend.send('/slow', { host: 'reports' }), frontend.send('/fast', { host: 'reports' })]);
    expect(Date.now() - started, 'overflow answers are immediate').to.be.below(500);
    for (const res of overflow) {
      expect(res.status).to.equal(503);
      expect(res.headers[HEADERS.error]).to.equal('WEFT_ERR_OVERFLOW');
      expect(res.text()).to.contain('"reports.default"').and.contain('maxConnections (2)').and.contain('maxPendingRequests (1)').and.contain('ServicePolicy "reports"');
    }
    expect(held, 'the app never saw the queued or refused requests').to.have.length(2);

    held.shift()?.end('done');
    while (held.length < 2) await delay(5); // the queued request took the free connection
    for (const res of held.splice(0)) res.end('done');
    const answers = await Promise.all([...inFlight, queued]);
    expect(answers.map((r) => r.status)).to.deep.equal([200, 200, 200]);
  });

  it('applies a raised limit to the next requests', async () => {
    mesh.setResources([resource('ServicePolicy', 'reports', { service: 'reports', connectionPool: { maxConnections: 10 } })]);
    mesh.push();
    const all = Array.from({ length: 5 }, () => frontend.send('/slow', { host: 'reports' }));
    while (held.length < 5) await delay(5);
    for (const res of held.splice(0)) res.end('done');
    expect((await Promise.all(all)).map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
  });
});
