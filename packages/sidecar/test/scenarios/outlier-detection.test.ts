import { expect } from 'chai';
import { quietLogger } from '@weft/harness';
import type { WeftEvents } from '../../src/telemetry/events';
import { delay, resource, TestMesh, type Caller, type Instance } from './mesh-fixture';

describe('scenario: outlier detection', function () {
  this.timeout(20_000);
  let mesh: TestMesh;
  let frontend: Caller;
  const instances: Instance[] = [];
  const failing = [false, false, false];
  /** Requests each app received, with the time they arrived. */
  const hits: number[][] = [[], [], []];
  const ejected: WeftEvents['weft:endpoint-ejected'][] = [];
  const returned: WeftEvents['weft:endpoint-returned'][] = [];

  before(async () => {
    mesh = new TestMesh();
    for (let i = 0; i < 3; i++) {
      instances.push(
        await mesh.addInstance('orders', (_req, res) => {
          hits[i]?.push(Date.now());
          res.statusCode = failing[i] ? 503 : 200;
          res.end(failing[i] ? `instance ${i} is failing` : `instance ${i}`);
        }),
      );
    }
    mesh.setResources([
      resource('Route', 'orders', { service: 'orders', rules: [{ retries: { attempts: 2, retryOn: ['5xx'], backoff: { baseInterval: '1ms', maxInterval: '5ms' } } }] }),
      resource('ServicePolicy', 'orders', {
        service: 'orders',
        outlierDetection: { consecutiveErrors: 3, interval: '1s', baseEjectionTime: '1s', maxEjectionPercent: 50 },
      }),
    ]);
    frontend = await mesh.addCaller('frontend', { telemetry: { log: quietLogger } });
    frontend.telemetry.events.on('weft:endpoint-ejected', (e) => ejected.push(e));
    frontend.telemetry.events.on('weft:endpoint-returned', (e) => returned.push(e));
  });
  after(() => mesh.close());

  it('ejects the one endpoint of three that starts failing, while callers of idempotent requests see no error', async () => {
    failing[1] = true;
    const statuses: number[] = [];
    for (let i = 0; i < 60; i++) statuses.push((await frontend.send('/orders', { host: 'orders' })).status);
    expect(statuses.filter((s) => s !== 200), 'statuses other than 200').to.deep.equal([]);
    expect(ejected.map((e) => e.endpoint)).to.deep.equal([instances[1]?.address]);
    expect(ejected[0]).to.include({ destination: 'orders.default', ejections: 1, durationMs: 1000, consecutiveErrors: 3 });
    expect(hits[1], 'the failing app saw exactly the three failures that ejected it').to.have.length(3);
    expect((hits[0]?.length ?? 0) + (hits[2]?.length ?? 0)).to.be.at.least(60);
    expect(frontend.telemetry.renderMetrics()).to.contain('weft_ejections_total{destination="orders.default"} 1');
  });

  it('takes it back after its ejection time once it has recovered', async () => {
    failing[1] = false;
    const before = hits[1]?.length ?? 0;
    const deadline = Date.now() + 3000;
    while (returned.length === 0 && Date.now() < deadline) await delay(20);
    expect(returned.map((e) => e.endpoint)).to.deep.equal([instances[1]?.address]);
    for (let i = 0; i < 30; i++) expect((await frontend.send('/orders', { host: 'orders' })).status).to.equal(200);
    expect((hits[1]?.length ?? 0) - before, 'requests the recovered endpoint served').to.be.at.least(5);
    expect(ejected).to.have.length(1);
  });
});
