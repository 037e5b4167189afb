import { expect } from 'chai';
import { Agent } from 'node:http';
import { resource, send, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: retry budget (retry storm)', function () {
  this.timeout(30_000);
  let mesh: TestMesh;
  let frontend: Caller;
  let upstreamAttempts = 0;

  before(async () => {
    mesh = new TestMesh();
    await mesh.addInstance('search', (_req, res) => {
      upstreamAttempts += 1;
      res.statusCode = 503;
      res.end('overloaded');
    });
    mesh.setResources([
      resource('Route', 'search', { service: 'search', rules: [{ retries: { attempts: 3, retryOn: ['5xx'], backoff: { baseInterval: '1ms', maxInterval: '2ms' } } }] }),
      resource('ServicePolicy', 'search', { service: 'search', retryBudget: { percent: 20, minRetriesPerSecond: 5 } }),
    ]);
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('keeps upstream attempts within requests x 1.2 + 5/s while every request fails', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    const requests = 400;
    let sent = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (sent < requests) {
        sent += 1;
        const res = await send(agent, frontend.outbound.port, '/q', { host: 'search' });
        expect(res.status).to.equal(503);
      }
    };
    try {
      await Promise.all(Array.from({ length: 10 }, worker));
    } finally {
      agent.destroy();
    }
    const seconds = (Date.now() - started) / 1000;
    // Without the budget this would be 4 x 400 = 1600 attempts.
    const bound = requests * 1.2 + 5 * (seconds + 1) + 5;
    expect(upstreamAttempts, `${upstreamAttempts} attempts in ${seconds.toFixed(1)} s`).to.be.at.most(bound);
    expect(upstreamAttempts).to.be.at.least(requests * 1.15); // the budget is used, not just refused
    const skipped = /weft_retries_skipped_total\{destination="search.default",reason="budget"\} (\d+)/.exec(frontend.telemetry.renderMetrics());
    expect(Number(skipped?.[1] ?? 0)).to.be.greaterThan(300);
  });
});
