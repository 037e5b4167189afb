/**
 * The blocking-query loop against the Consul HTTP API test server (@weft/harness; not Consul):
 * it follows changes, resets an index that goes backwards, treats an index of 0 as an error and
 * backs off, rate-limits reads that return at once, and keeps going after an outage.
 */
import { expect } from 'chai';
import * as http from 'node:http';

import { ConsulTestServer, waitFor } from '@weft/harness';
import { BlockingQuery, type BlockingQueryTiming } from '../../../src/registry/consul/consul-blocking-query';
import { ConsulClient, type HealthEntry } from '../../../src/registry/consul/consul-client';

const FAST: Partial<BlockingQueryTiming> = { waitMs: 2_000, minIntervalMs: 50, backoff: { baseMs: 50, capMs: 200 } };

async function register(server: ConsulTestServer, id: string, name: string, meta: Record<string, string> = {}, token?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent: false, host: '127.0.0.1', port: server.port, method: 'PUT', path: '/v1/agent/service/register', headers: token ? { 'X-Consul-Token': token } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ ID: id, Name: name, Address: '127.0.0.1', Port: 1, Meta: meta, Check: { TTL: '30s', Status: 'passing' } }));
  });
}

describe('Consul blocking-query loop (against the Consul HTTP API test server)', function () {
  this.timeout(30_000);
  let server: ConsulTestServer;
  let client: ConsulClient;
  const queries: BlockingQuery<HealthEntry[]>[] = [];
  const values: { ids: string[]; index: number }[] = [];
  const errors: string[] = [];

  const watch = (timing: Partial<BlockingQueryTiming> = FAST, c: ConsulClient = client): BlockingQuery<HealthEntry[]> => {
    const q = new BlockingQuery<HealthEntry[]>({
      read: (index, waitMs, signal) => c.healthService('orders', index, waitMs, signal),
      onValue: (entries, index) => values.push({ ids: entries.map((e) => e.serviceId), index }),
      onError: (err) => errors.push(err instanceof Error ? err.message : String(err)),
      timing,
    });
    queries.push(q);
    q.start();
    return q;
  };
  const healthReads = (): number => server.requests.filter((r) => r.path === '/v1/health/service/orders').length;

  beforeEach(async () => {
    server = await ConsulTestServer.start();
    client = new ConsulClient({ host: '127.0.0.1', port: server.port });
    values.length = 0;
    errors.length = 0;
  });

  afterEach(async () => {
    await Promise.all(queries.splice(0).map((q) => q.stop()));
    client.close();
    await server.close();
  });

  it('follows registrations with blocking reads: a read waits at the last index, a write wakes it', async () => {
    const q = watch();
    await waitFor('the first answer', () => values.length === 1);
    expect(values[0]?.ids).to.deep.equal([]);
    await waitFor('a read blocked at the index', () => q.index > 0 && server.requests.some((r) => r.query.includes(`index=${q.index}`)));
    const before = healthReads();
    await register(server, 'orders-1', 'orders');
    await waitFor('the new instance', () => values.some((v) => v.ids.includes('orders-1')));
    // One blocked read answered the change: the loop did not poll.
    expect(healthReads() - before).to.be.at.most(2);
    expect(server.requests.find((r) => r.path === '/v1/health/service/orders' && r.query.includes('index='))?.query).to.match(/wait=2s/);
  });

  it('an index that goes backwards (a restored Consul) is reset to 0: the next read is a fresh one, then it blocks at the new index', async () => {
    for (let i = 0; i < 5; i++) await register(server, 'orders-1', 'orders'); // each write raises the index
    const q = watch({ ...FAST, waitMs: 1_000 });
    await waitFor('the first answer', () => values.length === 1 && q.index > 0);
    const high = q.index;
    expect(high).to.be.at.least(5);
    server.restoreIndex(1);
    const mark = server.requests.length;
    await register(server, 'orders-2', 'orders'); // index 2 < high
    // Consul holds a read at index `high` for the wait, then answers with the lower index.
    await waitFor('the instance registered after the restore', () => values.some((v) => v.ids.includes('orders-2')), 5_000);
    await waitFor('a read blocking at the new index', () => server.requests.slice(mark).some((r) => r.path === '/v1/health/service/orders' && r.query.includes(`index=${server.index}`)));
    expect(server.index).to.be.below(high);
    const after = server.requests.slice(mark).filter((r) => r.path === '/v1/health/service/orders');
    // The read after the backwards answer sent no index (a reset), not index=high again.
    const backwards = after.findIndex((r) => r.query.includes(`index=${high}`));
    expect(after.slice(backwards + 1)[0]?.query ?? '').not.to.contain('index=');
  });

  it('an X-Consul-Index of 0 is an error: the loop backs off instead of spinning, then recovers', async () => {
    server.faults.zeroIndex = true;
    server.faults.noBlocking = true;
    watch({ ...FAST, minIntervalMs: 10, backoff: { baseMs: 200, capMs: 400 } });
    await waitFor('errors', () => errors.length >= 3);
    expect(errors[0]).to.match(/X-Consul-Index 0; an index must be at least 1/);
    expect(values).to.have.length(0);
    const started = Date.now();
    const reads = healthReads();
    await new Promise((r) => setTimeout(r, 1_000));
    // Backoff of up to 400 ms (at least 10) between reads: a spinning loop would make thousands.
    expect(healthReads() - reads).to.be.below(60);
    expect(Date.now() - started).to.be.at.least(1_000);
    server.faults.zeroIndex = false;
    await waitFor('a value after the fault', () => values.length > 0);
  });

  it('rate-limits reads that return at once (minIntervalMs between the starts of two reads)', async () => {
    server.faults.noBlocking = true; // every read answers at once, as on a busy agent
    watch({ ...FAST, minIntervalMs: 200 });
    await waitFor('the first answer', () => values.length === 1);
    const reads = healthReads();
    await new Promise((r) => setTimeout(r, 1_000));
    // At most one read per 200 ms (plus the one in flight); without the limit there would be hundreds.
    expect(healthReads() - reads).to.be.within(1, 7);
  });

  it('errors back off with jitter while Consul is down, and the loop resumes when it is back', async () => {
    const q = watch();
    await waitFor('the first answer', () => values.length === 1 && q.index > 0);
    await server.stop();
    await waitFor('failures', () => errors.length >= 2);
    expect(errors[0]).to.match(/cannot reach Consul at 127\.0\.0\.1:\d+ for health\.service/);
    await server.restart();
    await register(server, 'orders-3', 'orders');
    await waitFor('the instance registered after the outage', () => values.some((v) => v.ids.includes('orders-3')));
  });

  it('with ACLs on, a wrong token is 403 "ACL not found" and the error says which flag to check', async () => {
    await server.close();
    server = await ConsulTestServer.start({ aclToken: 'right' });
    expect(await register(server, 'orders-1', 'orders', {}, 'wrong')).to.equal(403);
    expect(await register(server, 'orders-1', 'orders', {}, 'right')).to.equal(200);
    const wrong = new ConsulClient({ host: '127.0.0.1', port: server.port, token: 'wrong' });
    const right = new ConsulClient({ host: '127.0.0.1', port: server.port, token: 'right' });
    try {
      watch(FAST, wrong);
      await waitFor('an error', () => errors.length >= 1);
      expect(errors[0]).to.match(/403 ACL not found.*--consul-token-file/);
      watch(FAST, right);
      await waitFor('the instance', () => values.some((v) => v.ids.includes('orders-1')));
    } finally {
      await Promise.all(queries.splice(0).map((q) => q.stop()));
      wrong.close();
      right.close();
    }
  });

  it('reads the datacenter given (?dc=); one the agent has no path to is an error naming it', async () => {
    await register(server, 'orders-1', 'orders');
    const dc1 = new ConsulClient({ host: '127.0.0.1', port: server.port, datacenter: 'dc1' });
    const dc9 = new ConsulClient({ host: '127.0.0.1', port: server.port, datacenter: 'dc9' });
    try {
      watch(FAST, dc9);
      await waitFor('an error', () => errors.length >= 1);
      expect(errors[0]).to.match(/answered health\.service with 500 No path to datacenter/);
      watch(FAST, dc1);
      await waitFor('the instance', () => values.some((v) => v.ids.includes('orders-1')));
      expect(server.requests.some((r) => r.query.includes('dc=dc1'))).to.equal(true);
    } finally {
      await Promise.all(queries.splice(0).map((q) => q.stop()));
      dc1.close();
      dc9.close();
    }
  });
});
