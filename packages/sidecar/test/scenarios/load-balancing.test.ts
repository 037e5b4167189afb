import { expect } from 'chai';
import { Agent } from 'node:http';
import { delay, resource, send, TestMesh, type Caller } from './mesh-fixture';

describe('scenario: load balancing', function () {
  this.timeout(30_000);
  let mesh: TestMesh;
  let frontend: Caller;
  /** Per instance: how long it takes to answer, and what it answered. */
  const slowMs = [0, 0, 0];
  const served = [0, 0, 0];

  before(async () => {
    mesh = new TestMesh();
    for (let i = 0; i < 3; i++) {
      await mesh.addInstance('catalog', (_req, res) => {
        served[i] = (served[i] ?? 0) + 1;
        setTimeout(() => res.end(`instance-${i}`), slowMs[i]);
      });
    }
    frontend = await mesh.addCaller('frontend');
  });
  after(() => mesh.close());

  const policy = (loadBalancer: object): void => {
    mesh.setResources([resource('ServicePolicy', 'catalog', { service: 'catalog', loadBalancer })]);
    mesh.push();
  };

  it('ring-hash sends a key to the same instance every time, and keys spread over all instances', async () => {
    policy({ algorithm: 'ring-hash', hashHeader: 'x-user' });
    const owner = new Map<string, string>();
    for (let u = 0; u < 30; u++) {
      for (let n = 0; n < 3; n++) {
        const res = await frontend.send('/item', { host: 'catalog', headers: { 'x-user': `user-${u}` } });
        if (n === 0) owner.set(`user-${u}`, res.text());
        else expect(res.text(), `user-${u}`).to.equal(owner.get(`user-${u}`));
      }
    }
    expect(new Set(owner.values()).size).to.equal(3);
    // A new config version (same endpoints) keeps every key where it was.
    policy({ algorithm: 'ring-hash', hashHeader: 'X-User' });
    for (const [user, instance] of owner) expect((await frontend.send('/item', { host: 'catalog', headers: { 'x-user': user } })).text()).to.equal(instance);
  });

  it('least-request sends most requests away from a slow instance', async () => {
    policy({ algorithm: 'least-request' });
    slowMs[0] = 150;
    served.fill(0);
    const agent = new Agent({ keepAlive: true, maxSockets: 12 });
    const results = await Promise.all(Array.from({ length: 240 }, (_, i) => delay(i * 2).then(() => send(agent, frontend.outbound.port, '/item', { host: 'catalog' })))).finally(() => {
      agent.destroy();
      slowMs[0] = 0;
    });
    expect(results.every((r) => r.status === 200)).to.equal(true);
    // Round robin would give the slow one 80; P2C on in-flight counts gives it far fewer.
    expect(served[0], `served: ${served.join(', ')}`).to.be.below(40);
  });

  it('loses no request while balancers and routes change under continuous load', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const statuses = new Map<number, number>();
    let running = true;
    let total = 0;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; running; i++) {
        const res = await send(agent, frontend.outbound.port, `/item/${w}/${i}`, { host: 'catalog', headers: { 'x-user': `u${i % 50}` } });
        total += 1;
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => worker(w));
    const algorithms = ['round-robin', 'least-request', 'random', 'ring-hash', 'round-robin'];
    // Paced by requests completed, not by time: ten config versions, each under ~200 requests.
    const completed = async (n: number): Promise<void> => {
      while (total < n) await delay(5);
    };
    try {
      for (let step = 0; step < 10; step++) {
        await completed((step + 1) * 200);
        const algorithm = algorithms[step % algorithms.length] as string;
        mesh.setResources([
          resource('ServicePolicy', 'catalog', {
            service: 'catalog',
            loadBalancer: algorithm === 'ring-hash' ? { algorithm, hashHeader: 'x-user' } : { algorithm },
            connectionPool: { maxConnections: 50 + step },
            outlierDetection: { consecutiveErrors: 5 },
          }),
          resource('Route', 'catalog', { service: 'catalog', rules: [{ timeout: `${2 + step}s`, retries: { attempts: 1 } }] }),
        ]);
        mesh.push();
      }
      await completed(2200);
    } finally {
      running = false;
      await Promise.all(workers).finally(() => agent.destroy());
    }
    expect(Object.fromEntries(statuses)).to.deep.equal({ 200: total });
    expect(total).to.be.at.least(2200);
  });
});
