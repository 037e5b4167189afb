/**
 * Which Consul instances become mesh endpoints and how they merge with announced ones: the catalog
 * watch reads a Consul HTTP API test server (@weft/harness; not Consul), mergeConsul does the rest.
 */
import { expect } from 'chai';
import * as http from 'node:http';
import { ConsulTestServer, quietLogger } from '@weft/harness';
import type { RegistryEndpoint, ServiceEntry } from '../../../src/registry/registry';
import { ConsulCatalog } from '../../../src/registry/consul/consul-catalog';
import { ConsulClient } from '../../../src/registry/consul/consul-client';
import { mergeConsul } from '../../../src/registry/consul/consul-endpoints';

function put(server: ConsulTestServer, path: string, body: unknown): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ agent: false, host: '127.0.0.1', port: server.port, method: 'PUT', path }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body === undefined ? '' : JSON.stringify(body));
  });
}

const meshMeta = (proxyId: string, port: number): Record<string, string> => ({ 'weft-proxy-id': proxyId, 'weft-inbound': `127.0.0.1:${port}`, 'weft-namespace': 'default', 'weft-app-port': '8080', 'weft-label-version': 'v2' });

const announced = (proxyId: string, port: number, ready = true): RegistryEndpoint => ({
  proxyId, service: 'orders', namespace: 'default', address: `127.0.0.1:${port}`, labels: {}, ready, appPort: 0,
  state: 'connected', verification: 'verified', verificationDetail: '',
});

describe('Consul instances as mesh endpoints (catalog watch + merge)', function () {
  this.timeout(20_000);
  let server: ConsulTestServer;
  let client: ConsulClient;
  let catalog: ConsulCatalog;

  beforeEach(async () => {
    server = await ConsulTestServer.start();
    client = new ConsulClient({ host: '127.0.0.1', port: server.port });
    catalog = new ConsulCatalog({ client, log: quietLogger, timing: { waitMs: 2_000, minIntervalMs: 20, backoff: { baseMs: 20, capMs: 100 } } });
    catalog.start();
  });

  afterEach(async () => {
    await catalog.close();
    client.close();
    await server.close();
  });

  const settle = async (what: string, ok: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const count = (name: string): number => catalog.instances().get(name)?.length ?? 0;

  it('an instance with Weft meta that no sidecar announced here is published as a Consul endpoint; one without is outside the mesh', async () => {
    await put(server, '/v1/agent/service/register', { ID: 'orders-1', Name: 'orders', Meta: meshMeta('p1', 7001), Check: { TTL: '30s', Status: 'passing' } });
    await put(server, '/v1/agent/service/register', { ID: 'orders-legacy', Name: 'orders', Address: '10.0.0.9', Port: 80, Check: { TTL: '30s', Status: 'passing' } });
    await settle('both instances', () => count('orders') === 2 && catalog.health().up);
    const merged = mergeConsul([], new Set(), catalog.instances(), { published: true });
    expect(merged).to.have.length(1);
    expect(merged[0]?.endpoints).to.deep.equal([{
      proxyId: 'p1', service: 'orders', namespace: 'default', address: '127.0.0.1:7001', labels: { version: 'v2' }, ready: true, appPort: 8080,
      state: 'catalog', verification: 'consul', verificationDetail: 'listed by Consul; not dialed by the control plane',
    }]);
  });

  it('an announced endpoint and its Consul twin are one endpoint; a failing Consul check makes it not ready', async () => {
    await put(server, '/v1/agent/service/register', { ID: 'orders-1', Name: 'orders', Meta: meshMeta('p1', 7001), Check: { TTL: '30s', Status: 'passing' } });
    await settle('the instance', () => count('orders') === 1);
    const own: ServiceEntry[] = [{ service: 'orders', namespace: 'default', endpoints: [announced('p1', 7001), announced('p2', 7002)] }];
    const once = mergeConsul(own, new Set(['p1', 'p2']), catalog.instances(), { published: true });
    expect(once[0]?.endpoints.map((e) => [e.proxyId, e.ready, e.verification])).to.deep.equal([['p1', true, 'verified'], ['p2', true, 'verified']]);

    server.overrideCheck('orders-1', 'critical');
    await settle('the check to fail', () => catalog.instances().get('orders')?.[0]?.passing === false);
    const failing = mergeConsul(own, new Set(['p1', 'p2']), catalog.instances(), { published: true });
    // p1 is held back by Consul even though its sidecar says it is ready; p2 is not in Consul and keeps its own readiness.
    expect(failing[0]?.endpoints.map((e) => [e.proxyId, e.ready])).to.deep.equal([['p1', false], ['p2', true]]);
  });

  it('a Consul twin does not bring back an announced endpoint that is not published (its address failed verification)', async () => {
    await put(server, '/v1/agent/service/register', { ID: 'orders-1', Name: 'orders', Meta: meshMeta('p1', 7001), Check: { TTL: '30s', Status: 'passing' } });
    await settle('the instance', () => count('orders') === 1);
    expect(mergeConsul([], new Set(['p1']), catalog.instances(), { published: true })).to.deep.equal([]);
  });

  it('a deregistered instance goes away; a critical Consul-only one is not published but shows (not ready) to operators', async () => {
    await put(server, '/v1/agent/service/register', { ID: 'orders-1', Name: 'orders', Meta: meshMeta('p1', 7001), Check: { TTL: '30s' } });
    await settle('the instance', () => count('orders') === 1);
    // Consul's default status for a new check is critical.
    expect(mergeConsul([], new Set(), catalog.instances(), { published: true })).to.deep.equal([]);
    expect(mergeConsul([], new Set(), catalog.instances())[0]?.endpoints[0]?.ready).to.equal(false);
    expect(await put(server, '/v1/agent/service/deregister/orders-1', undefined)).to.equal(200);
    await settle('the service to go', () => !catalog.instances().has('orders'));
    expect(await put(server, '/v1/agent/service/deregister/orders-1', undefined)).to.equal(404);
  });

  it('Consul down: the last instances stay and health says so; back: up again', async () => {
    await put(server, '/v1/agent/service/register', { ID: 'orders-1', Name: 'orders', Meta: meshMeta('p1', 7001), Check: { TTL: '30s', Status: 'passing' } });
    await settle('the instance', () => count('orders') === 1 && catalog.health().up);
    const lastSuccess = catalog.health().lastSuccessMs;
    await server.stop();
    await settle('the outage to show', () => !catalog.health().up);
    expect(catalog.health().lastError).to.match(/cannot reach Consul/);
    expect(catalog.health().lastSuccessMs).to.equal(lastSuccess);
    expect(count('orders')).to.equal(1);
    await server.restart();
    await settle('Consul to be up again', () => catalog.health().up);
  });
});
