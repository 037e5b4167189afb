import * as fs from 'node:fs/promises';
import * as http from 'node:http';
import * as path from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { ApplyResponse, GetResponse, ListServicesResponse } from '@weft/api';
import { certificateFingerprint } from '@weft/pki';
import { quietLogger, readOperatorConfig } from '@weft/harness';
import { startControlPlane, type RunningControlPlane } from '../src/index';
import { TestDiscoveryStream } from './helpers/discovery-client';
import { makeTempDir, removeDir, route } from './helpers/fixtures';
import { joinAs, makeClient, operatorCredential, unaryCall } from './helpers/grpc-clients';

function httpGet(port: number, pathname: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: pathname }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('control plane process', () => {
  let dir: string | undefined;
  const running: RunningControlPlane[] = [];
  const clients: grpc.Client[] = [];

  async function start(): Promise<RunningControlPlane> {
    const cp = await startControlPlane({ dataDir: dir as string, listen: '127.0.0.1:0', http: '127.0.0.1:0', logger: quietLogger });
    running.push(cp);
    return cp;
  }

  beforeEach(async () => {
    dir = await makeTempDir();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const cp of running.splice(0)) await cp.close();
    await removeDir(dir);
  });

  it('keeps the CA, resources and revision across a restart, and rewrites weftctl.json', async () => {
    const first = await start();
    const config1 = readOperatorConfig(first.operatorConfigPath);
    const admin1 = makeClient(first, config1, 'Admin', operatorCredential(config1));
    clients.push(admin1);
    await unaryCall<ApplyResponse>(admin1, 'Apply', { documents: [{ source: 'r.yaml', index: 1, json: JSON.stringify(route('a', 'reviews')) }], dryRun: false });
    const applied = await unaryCall<ApplyResponse>(admin1, 'Apply', { documents: [{ source: 'r.yaml', index: 1, json: JSON.stringify(route('b', 'reviews')) }], dryRun: false });
    expect(applied.revision).to.equal(2);
    const workload = (await joinAs(first, config1, admin1, 'reviews')).credential;
    const discovery = makeClient(first, config1, 'Discovery', workload);
    clients.push(discovery);
    const stream = new TestDiscoveryStream(discovery);
    stream.announce({ proxyId: 'reviews-1', service: 'reviews', address: '10.0.0.1:15006' });
    await stream.next();
    await first.close();

    const second = await start();
    expect(second.rootFingerprint).to.equal(first.rootFingerprint);
    const config2 = readOperatorConfig(second.operatorConfigPath);
    expect(certificateFingerprint(config2.caPem)).to.equal(first.rootFingerprint);
    expect(config2.endpoint).to.equal(`127.0.0.1:${second.grpcPort}`);
    expect(config2.certificatePem, 'the operator certificate is kept while valid').to.equal(config1.certificatePem);
    const admin2 = makeClient(second, config2, 'Admin', operatorCredential(config2));
    clients.push(admin2);
    const got = await unaryCall<GetResponse>(admin2, 'Get', { kind: 'routes', namespace: '', name: '' });
    expect(got.revision).to.equal(2);
    expect(got.itemsJson).to.have.length(2);
    // The endpoint is served from registry.json until its sidecar re-announces or the grace period ends.
    const services = await unaryCall<ListServicesResponse>(admin2, 'ListServices', {});
    expect(services.services.find((s) => s.service === 'reviews')?.endpoints.map((e) => e.proxyId)).to.deep.equal(['reviews-1']);
  });

  it('keeps its files private and never stores a join token secret', async () => {
    const cp = await start();
    const config = readOperatorConfig(cp.operatorConfigPath);
    const admin = makeClient(cp, config, 'Admin', operatorCredential(config));
    clients.push(admin);
    const { token } = await unaryCall<{ token: string }>(admin, 'CreateToken', { service: 'orders', namespace: '', ttlSeconds: 0, maxUses: 0 });
    expect(token).to.match(new RegExp(`^weft1\\.${cp.rootFingerprint}\\.[0-9a-f]{16}\\.[A-Za-z0-9_-]{43}$`));
    expect((await fs.stat(cp.dataDir)).mode & 0o777).to.equal(0o700);
    for (const f of ['ca-key.pem', 'weftctl.json', 'control-plane-key.pem', 'tokens.json']) {
      expect((await fs.stat(path.join(cp.dataDir, f))).mode & 0o777, f).to.equal(0o600);
    }
    const tokensJson = await fs.readFile(path.join(cp.dataDir, 'tokens.json'), 'utf8');
    expect(tokensJson).to.not.contain(token.split('.')[3] as string);
  });

  it('refuses to start on a corrupt CA key, and says to restore it rather than making a new root', async () => {
    const cp = await start();
    await cp.close();
    await fs.writeFile(path.join(dir as string, 'ca-key.pem'), '-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n');
    const err = await start().then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.code).to.equal('WEFT_ERR_DATA_DIR');
    expect(err?.message).to.contain('restore ca.pem and ca-key.pem from a backup');
  });

  it('refuses a second control plane on the same data directory', async () => {
    await start();
    let code = '';
    try {
      await start();
    } catch (err) {
      code = (err as { code: string }).code;
    }
    expect(code).to.equal('WEFT_ERR_DATA_DIR_LOCKED');
  });

  it('serves /live, /ready and /metrics, 404 for anything else, and 503 on /ready while stopping', async () => {
    const cp = await start();
    expect((await httpGet(cp.httpPort, '/live')).status).to.equal(200);
    expect((await httpGet(cp.httpPort, '/ready')).status).to.equal(200);
    const metrics = await httpGet(cp.httpPort, '/metrics');
    expect(metrics.status).to.equal(200);
    for (const name of ['weft_cp_connected_proxies', 'weft_cp_pushes_total', 'weft_cp_acks_total', 'weft_cp_nacks_total', 'weft_cp_store_revision', 'weft_cp_tokens_used_total', 'process_cpu_seconds_total', 'process_resident_memory_bytes']) {
      expect(metrics.body).to.match(new RegExp(`^${name} [0-9.e+]+$`, 'm'));
    }
    // Labelled by how a certificate was asked for: declared before the first one is signed.
    expect(metrics.body).to.include('# TYPE weft_cp_certificates_issued_total counter');
    expect(metrics.body).to.include('# TYPE weft_cp_push_duration_seconds histogram');
    expect((await httpGet(cp.httpPort, '/nope')).status).to.equal(404);
    expect((await httpGet(cp.httpPort, '/__proto__')).status).to.equal(404);
    expect((await httpGet(cp.httpPort, '//%%zz')).status).to.equal(404);
    const closing = cp.close();
    const during = await httpGet(cp.httpPort, '/ready');
    expect(during.status).to.equal(503);
    await closing;
  });
});
