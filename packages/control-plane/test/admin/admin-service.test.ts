import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { API_VERSION, weftVersion, type ApplyResponse, type DeleteResponse, type GetResponse, type ListTokensResponse } from '@weft/api';
import { CertificateAuthority, generateKeyPair } from '@weft/pki';
import { quietLogger, readOperatorConfig } from '@weft/harness';
import { startControlPlane, type OperatorConfig, type RunningControlPlane } from '../../src/index';
import { makeTempDir, meshConfig, removeDir, route } from '../helpers/fixtures';
import { callError, joinAs, makeClient, operatorCredential, unaryCall } from '../helpers/grpc-clients';

describe('Admin API', () => {
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  let config: OperatorConfig;
  let admin: grpc.Client;
  const clients: grpc.Client[] = [];

  const docs = (source: string, ...values: unknown[]) => values.map((v, i) => ({ source, index: i + 1, json: JSON.stringify(v) }));
  const apply = (documents: unknown[], dryRun = false) => unaryCall<ApplyResponse>(admin, 'Apply', { documents, dryRun });
  const get = (kind: string, namespace = '', name = '') => unaryCall<GetResponse>(admin, 'Get', { kind, namespace, name });

  before(async () => {
    dir = await makeTempDir();
    cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', http: '127.0.0.1:0', logger: quietLogger });
    config = readOperatorConfig(cp.operatorConfigPath);
    admin = makeClient(cp, config, 'Admin', operatorCredential(config));
    clients.push(admin);
  });

  after(async () => {
    for (const c of clients) c.close();
    await cp?.close();
    await removeDir(dir);
  });

  it('refuses callers without the operator certificate', async () => {
    const anonymous = makeClient(cp as RunningControlPlane, config, 'Admin');
    clients.push(anonymous);
    const e1 = await callError(unaryCall(anonymous, 'ListProxies', {}));
    expect(e1.code).to.equal(grpc.status.UNAUTHENTICATED);
    expect(e1.details).to.contain('operator certificate');

    const workload = (await joinAs(cp as RunningControlPlane, config, admin, 'reviews')).credential;
    const asWorkload = makeClient(cp as RunningControlPlane, config, 'Admin', workload);
    clients.push(asWorkload);
    const e2 = await callError(unaryCall(asWorkload, 'Get', { kind: 'routes', namespace: '', name: '' }));
    expect(e2.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(e2.details).to.contain('spiffe://weft.local/ns/weft-system/sa/weft-operator').and.contain('sa/reviews');

    // A certificate from another CA is as good as none: the handshake succeeds, the identity does not.
    const foreignCa = CertificateAuthority.createRoot('weft.local');
    const keys = generateKeyPair();
    const forged = foreignCa.issue({ publicKeyPem: keys.publicKeyPem, ttlMs: 3_600_000, usage: 'client', uris: [config.controlPlaneSpiffeId.replace('weft-control-plane', 'weft-operator')] });
    const asForged = makeClient(cp as RunningControlPlane, config, 'Admin', { privateKeyPem: keys.privateKeyPem, certificatePem: forged.chainPem.join('') });
    clients.push(asForged);
    const e3 = await callError(unaryCall(asForged, 'ListProxies', {}));
    expect(e3.code).to.equal(grpc.status.UNAUTHENTICATED);
  });

  it('rejects invalid documents with one formatted message and stores nothing', async () => {
    const before = await get('routes');
    const bad = { apiVersion: API_VERSION, kind: 'Route', metadata: { name: 'reviews' }, spec: { service: 'reviews', rules: [{ retries: { attempts: -1 } }] } };
    const err = await callError(apply(docs('routes.yaml', route('good', 'reviews'), bad)));
    expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(err.details).to.equal('routes.yaml: document 2: Route reviews: spec.rules[0].retries.attempts: must be >= 0');
    const after = await get('routes');
    expect(after.itemsJson).to.deep.equal([]);
    expect(after.revision).to.equal(before.revision);

    const json = await callError(apply([{ source: 'x.yaml', index: 1, json: '{nope' }]));
    expect(json.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(json.details).to.match(/^x\.yaml: document 1: is not valid JSON/);
  });

  it('refuses a MeshConfig that would change the trust domain', async () => {
    const err = await callError(apply(docs('mesh.yaml', meshConfig({ trustDomain: 'other.example' }))));
    expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(err.details).to.contain('mesh.yaml: document 1: MeshConfig default: spec.trustDomain:').and.contain('first start');
  });

  it('applies, dry-runs, gets and deletes', async () => {
    const dry = await apply(docs('r.yaml', route('a', 'reviews')), true);
    expect(dry.dryRun).to.equal(true);
    expect(dry.results[0]).to.include({ kind: 'Route', namespace: 'default', name: 'a', action: 'created' });
    expect((await get('route')).itemsJson).to.deep.equal([]);

    const applied = await apply(docs('r.yaml', route('a', 'reviews'), route('b', 'ratings', { namespace: 'shop' })));
    expect(applied.results.map((r) => r.action)).to.deep.equal(['created', 'created']);
    const again = await apply(docs('r.yaml', route('a', 'reviews')));
    expect(again.results[0]?.action).to.equal('unchanged');
    expect(again.revision).to.equal(applied.revision);

    const all = await get('rt');
    expect(all.itemsJson.map((j) => (JSON.parse(j) as { metadata: { name: string } }).metadata.name)).to.deep.equal(['a', 'b']);
    expect((await get('routes', 'shop')).itemsJson).to.have.length(1);
    const one = JSON.parse((await get('Route', '', 'a')).itemsJson[0] as string) as Record<string, unknown>;
    expect(one).to.deep.include({ apiVersion: API_VERSION, kind: 'Route' });

    const missing = await callError(get('routes', '', 'x'));
    expect(missing.code).to.equal(grpc.status.NOT_FOUND);
    expect(missing.details).to.equal('Route default/x not found');

    const unknownKind = await callError(get('gateways'));
    expect(unknownKind.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(unknownKind.details).to.contain('Route').and.contain('AuthorizationPolicy');

    const del = await unaryCall<DeleteResponse>(admin, 'Delete', { kind: 'routes', namespace: 'shop', name: 'b' });
    expect(del.revision).to.equal(applied.revision + 1);
    const delMissing = await callError(unaryCall(admin, 'Delete', { kind: 'routes', namespace: 'shop', name: 'b' }));
    expect(delMissing.code).to.equal(grpc.status.NOT_FOUND);
  });

  it('synthesizes the default MeshConfig with effective defaults when none is stored', async () => {
    const res = await get('meshconfig');
    expect(res.itemsJson).to.have.length(1);
    const mc = JSON.parse(res.itemsJson[0] as string) as { metadata: Record<string, unknown>; spec: Record<string, unknown> };
    expect(mc.metadata).to.deep.equal({ name: 'default' });
    expect(mc.spec).to.deep.include({ trustDomain: 'weft.local', mtls: 'STRICT', certificateTTL: '24h' });
  });

  it('validates CreateToken arguments', async () => {
    const err = await callError(unaryCall(admin, 'CreateToken', { service: 'Not_A_Name', namespace: '', ttlSeconds: 0, maxUses: 0 }));
    expect(err.code).to.equal(grpc.status.INVALID_ARGUMENT);
    expect(err.details).to.contain('DNS label');
    const both = await callError(unaryCall(admin, 'CreateToken', { service: 'orders', namespace: '', ttlSeconds: 0, maxUses: 2, unlimitedUses: true }));
    expect(both.code).to.equal(grpc.status.INVALID_ARGUMENT);
  });

  it('makes single-use tokens unless told otherwise', async () => {
    const create = (extra: Record<string, unknown>) => unaryCall<{ token: string }>(admin, 'CreateToken', { service: 'limits', namespace: '', ttlSeconds: 0, maxUses: 0, ...extra });
    const ids = [
      (await create({})).token.split('.')[2],
      (await create({ maxUses: 3 })).token.split('.')[2],
      (await create({ unlimitedUses: true })).token.split('.')[2],
    ];
    const { tokens } = await unaryCall<ListTokensResponse>(admin, 'ListTokens', {});
    expect(ids.map((id) => tokens.find((t) => t.id === id)?.maxUses)).to.deep.equal([1, 3, 0]);
  });

  it('tells its version', async () => {
    expect(await unaryCall(admin, 'GetVersion', {})).to.deep.equal({ version: weftVersion() });
  });
});
