import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { CaStatus, DiscoveryResponse, SignResponse } from '@weft/api';
import { certificateFingerprint, chainRoot, createCsr, generateKeyPair, splitPemChain } from '@weft/pki';
import { quietLogger, readOperatorConfig, waitFor } from '@weft/harness';
import { startControlPlane, type OperatorConfig, type RunningControlPlane } from '../../src/index';
import { TestDiscoveryStream } from '../helpers/discovery-client';
import { makeTempDir, removeDir, sleep } from '../helpers/fixtures';
import { callError, joinAs, makeClient, operatorCredential, unaryCall, type ClientCredential } from '../helpers/grpc-clients';
import { servedChain } from '../helpers/tls-probe';

const REVIEWS = 'spiffe://weft.local/ns/default/sa/reviews';

describe('root rotation over real TLS: overlap -> reissue -> retire', function () {
  this.timeout(30_000);
  const dirs: string[] = [];
  const clients: grpc.Client[] = [];
  const streams: TestDiscoveryStream[] = [];
  const running: RunningControlPlane[] = [];

  async function start(dir: string, endpointGraceMs = 200): Promise<RunningControlPlane> {
    const cp = await startControlPlane({ dataDir: dir, listen: '127.0.0.1:0', http: '127.0.0.1:0', pushDebounceMs: 20, endpointGraceMs, logger: quietLogger });
    running.push(cp);
    return cp;
  }
  const client = <T extends grpc.Client>(c: T): T => (clients.push(c), c);
  const status = (admin: grpc.Client): Promise<CaStatus> => unaryCall<CaStatus>(admin, 'GetCaStatus', {});
  const phaseIs = (admin: grpc.Client, phase: string) => waitFor(`phase ${phase}`, async () => ((await status(admin)).phase === phase ? true : undefined), 5_000);

  afterEach(async () => {
    for (const s of streams.splice(0)) s.close();
    for (const c of clients.splice(0)) c.close();
    for (const cp of running.splice(0)) await cp.close();
    for (const d of dirs.splice(0)) await removeDir(d);
  });

  it('moves to each phase only when every proxy is ready, and leaves only the new root in force', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const cp = await start(dir);
    const before = readOperatorConfig(cp.operatorConfigPath);
    const oldRoot = before.caPem;
    const oldFp = certificateFingerprint(oldRoot);
    const admin = client(makeClient(cp, before, 'Admin', operatorCredential(before)));
    const joined = await joinAs(cp, before, admin, 'reviews');
    const stream = new TestDiscoveryStream(client(makeClient(cp, before, 'Discovery', joined.credential)));
    streams.push(stream);
    stream.announce({ proxyId: 'reviews-1', service: 'reviews', certificateRootFingerprint: oldFp });
    const first = await stream.next();
    expect(first.snapshot?.signingRootFingerprint).to.equal(oldFp);
    stream.ack(first);

    // overlap: the new root joins the bundle (snapshots, weftctl.json); the old one still signs.
    const started = await unaryCall<CaStatus>(admin, 'RotateRoot', { rootValiditySeconds: 0 });
    expect(started.phase).to.equal('overlap');
    expect(started.roots.map((r) => r.role)).to.deep.equal(['old', 'new']);
    const newFp = (started.roots[1] as CaStatus['roots'][number]).fingerprint;
    const again = await callError(unaryCall(admin, 'RotateRoot', { rootValiditySeconds: 0 }));
    expect(again.code).to.equal(grpc.status.FAILED_PRECONDITION);
    expect(again.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_ROTATION_IN_PROGRESS']);
    const overlap = await stream.next();
    expect(overlap.snapshot?.trustBundlePem.map(certificateFingerprint)).to.deep.equal([oldFp, newFp]);
    expect(overlap.snapshot?.signingRootFingerprint).to.equal(oldFp);
    expect(splitPemChain(readOperatorConfig(cp.operatorConfigPath).caPem).map(certificateFingerprint)).to.deep.equal([oldFp, newFp]);
    await sleep(600);
    const waiting = await status(admin);
    expect(waiting.phase, 'no phase change before the proxy ACKs the new bundle').to.equal('overlap');
    expect(waiting.waitingFor).to.include('reviews.default (reviews-').and.include('ACK of the trust bundle with the new root');

    // reissue: the ACK moves it on; the new root signs workloads, the control plane and the operator.
    stream.ack(overlap);
    await phaseIs(admin, 'reissue');
    const reissue = await nextWith(stream, (r) => r.snapshot?.signingRootFingerprint === newFp);
    stream.ack(reissue);
    const during = readOperatorConfig(cp.operatorConfigPath);
    expect(certificateFingerprint(chainRoot(splitPemChain(during.certificatePem), splitPemChain(during.caPem)) as string), 'operator certificate').to.equal(newFp);
    const served = await servedChain(cp.grpcPort);
    expect(certificateFingerprint(served[served.length - 1] as string)).to.equal(newFp);
    const renewed = await renew(cp, during, joined.credential);
    expect(certificateFingerprint(chainRoot(renewed.certificateChainPem, renewed.trustBundlePem) as string), 'a renewal by an old-root certificate gets a new-root one').to.equal(newFp);
    // The old operator certificate still works while both roots are trusted.
    const oldOperator = client(makeClient(cp, { ...before, caPem: during.caPem }, 'Admin', operatorCredential(before)));
    expect((await status(oldOperator)).phase).to.equal('reissue');
    await sleep(400);
    expect((await status(admin)).waitingFor).to.include('a certificate from the new root');

    // retire: once the proxy reports a new-root certificate, the old root leaves every bundle.
    stream.announce({ proxyId: 'reviews-1', service: 'reviews', certificateRootFingerprint: newFp });
    const retire = await nextWith(stream, (r) => r.snapshot?.trustBundlePem.length === 1);
    expect(retire.snapshot?.trustBundlePem.map(certificateFingerprint)).to.deep.equal([newFp]);
    stream.ack(retire);
    await phaseIs(admin, 'idle');
    const done = await status(admin);
    expect(done.roots.map((r) => [r.fingerprint, r.role])).to.deep.equal([[newFp, 'active']]);
    expect(done.lastCompletedAtMs).to.be.greaterThan(started.startedAtMs);
    const after = readOperatorConfig(cp.operatorConfigPath);
    expect(splitPemChain(after.caPem).map(certificateFingerprint)).to.deep.equal([newFp]);
    expect(certificateFingerprint(await fs.readFile(path.join(dir, 'ca.pem'), 'utf8'))).to.equal(newFp);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'ca-rotation.json'), 'utf8'))).to.not.have.property('next');
    // The old root is trusted no more: the old operator certificate counts as no certificate.
    const retired = client(makeClient(cp, after, 'Admin', operatorCredential(before)));
    expect((await callError(status(retired))).code).to.equal(grpc.status.UNAUTHENTICATED);
    expect(cp.rootFingerprint).to.equal(newFp);
  });

  it('resumes after a restart, even one between writing the phase and ca.pem, and waits for sidecars first', async () => {
    const dir = await makeTempDir();
    dirs.push(dir);
    const first = await start(dir);
    const config = readOperatorConfig(first.operatorConfigPath);
    const admin = client(makeClient(first, config, 'Admin', operatorCredential(config)));
    await sleep(250); // past the hold of this fresh start
    const joined = await joinAs(first, config, admin, 'reviews');
    const stream = new TestDiscoveryStream(client(makeClient(first, config, 'Discovery', joined.credential)));
    streams.push(stream);
    stream.announce({ proxyId: 'reviews-1', service: 'reviews' });
    await stream.next();
    const started = await unaryCall<CaStatus>(admin, 'RotateRoot', { rootValiditySeconds: 86_400 * 30 });
    const newFp = started.roots.find((r) => r.role === 'new')?.fingerprint as string;
    expect((started.roots.find((r) => r.role === 'new')?.notAfterMs ?? 0) - Date.now()).to.be.within(29 * 86_400_000, 31 * 86_400_000);
    stream.close();
    clients.splice(0).forEach((c) => c.close());
    await first.close();
    running.splice(0);

    // As if the process died right after recording "reissue", before ca.pem was rewritten.
    const file = path.join(dir, 'ca-rotation.json');
    await fs.writeFile(file, JSON.stringify({ ...JSON.parse(await fs.readFile(file, 'utf8')), phase: 'reissue' }));
    const second = await start(dir, 1_000);
    const startedAt = Date.now();
    expect(certificateFingerprint(await fs.readFile(path.join(dir, 'ca.pem'), 'utf8'))).to.equal(newFp);
    const served = await servedChain(second.grpcPort);
    expect(certificateFingerprint(served[served.length - 1] as string)).to.equal(newFp);
    const config2 = readOperatorConfig(second.operatorConfigPath);
    const admin2 = client(makeClient(second, config2, 'Admin', operatorCredential(config2)));
    const held = await status(admin2);
    expect(held.phase).to.equal('reissue');
    expect(held.waitingFor).to.include('--endpoint-grace');
    await phaseIs(admin2, 'idle');
    expect(Date.now() - startedAt, 'held for the endpoint grace').to.be.at.least(900);
    expect((await status(admin2)).roots.map((r) => r.fingerprint)).to.deep.equal([newFp]);
  });
});

async function nextWith(stream: TestDiscoveryStream, match: (r: DiscoveryResponse) => boolean): Promise<DiscoveryResponse> {
  for (;;) {
    const res = await stream.next(5_000);
    if (match(res)) return res;
    stream.ack(res);
  }
}

/** A renewal as a sidecar makes it: a new key, authenticated by the current certificate. */
async function renew(cp: RunningControlPlane, config: OperatorConfig, credential: ClientCredential): Promise<SignResponse> {
  const keys = generateKeyPair();
  const identity = makeClient(cp, config, 'Identity', credential);
  try {
    return await unaryCall<SignResponse>(identity, 'Sign', { csrPem: createCsr(REVIEWS, keys.privateKeyPem), token: '', proxyId: 'reviews-1' });
  } finally {
    identity.close();
  }
}
