import { expect } from 'chai';
import { resource, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: traffic split', function () {
  this.timeout(30_000);
  let mesh: TestMesh;
  let frontend: Caller;

  before(async () => {
    mesh = new TestMesh();
    for (const version of ['v1', 'v2']) {
      // Two instances per version, so the split and round robin work together.
      for (let i = 0; i < 2; i++) await mesh.addInstance('reviews', (_req, res) => res.end(version), { labels: { version } });
    }
    mesh.setResources([
      resource('ServicePolicy', 'reviews', {
        service: 'reviews',
        subsets: [
          { name: 'v1', labels: { version: 'v1' } },
          { name: 'v2', labels: { version: 'v2' } },
          { name: 'v3', labels: { version: 'v3' } },
        ],
      }),
      resource('Route', 'reviews', {
        service: 'reviews',
        rules: [
          { match: [{ headers: [{ name: 'x-canary', exact: 'yes' }] }], backends: [{ subset: 'v2' }] },
          { match: [{ path: { prefix: '/v3' } }], backends: [{ subset: 'v3' }] },
          { backends: [{ subset: 'v1', weight: 90 }, { subset: 'v2', weight: 10 }] },
        ],
      }),
    ]);
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  it('sends about 90% to v1 and 10% to v2 over 1000 requests', async () => {
    const counts: Record<string, number> = {};
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < 1000) {
        next += 1;
        const res = await frontend.send('/', { host: 'reviews' });
        expect(res.status).to.equal(200);
        counts[res.text()] = (counts[res.text()] ?? 0) + 1;
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    expect((counts['v1'] ?? 0) + (counts['v2'] ?? 0)).to.equal(1000);
    expect(counts['v1']).to.be.within(850, 950);
  });

  it('routes by header to the canary subset', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await frontend.send('/', { host: 'reviews', headers: { 'x-canary': 'yes' } });
      expect(res.text()).to.equal('v2');
    }
  });

  it('answers 503 naming the subset and service when a subset has no endpoints', async () => {
    const res = await frontend.send('/v3/x', { host: 'reviews' });
    expect(res.status).to.equal(503);
    expect(res.headers['x-weft-error']).to.equal('WEFT_ERR_NO_ENDPOINTS');
    expect(res.text()).to.contain('subset "v3"').and.contain('"reviews.default"');
  });
});
