import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import type { ListServicesResponse, ListTokensResponse, RemoveProxyResponse, RevokeTokenResponse, SignResponse } from '@weft/api';
import { certificateInfo, createCsr, generateKeyPair, normalizeSerial } from '@weft/pki';
import { quietLogger, readOperatorConfig, waitFor } from '@weft/harness';
import { startControlPlane, type OperatorConfig, type RunningControlPlane } from '../../src/index';
import { TestDiscoveryStream } from '../helpers/discovery-client';
import { makeTempDir, removeDir } from '../helpers/fixtures';
import { callError, createToken, makeClient, operatorCredential, unaryCall, type ClientCredential } from '../helpers/grpc-clients';

const REVIEWS = 'spiffe://weft.local/ns/default/sa/reviews';

describe('revocation: weftctl token revoke, weftctl proxy remove', function () {
  this.timeout(30_000);
  let dir: string | undefined;
  let cp: RunningControlPlane | undefined;
  let config: OperatorConfig;
  let admin: grpc.Client;
  const clients: grpc.Client[] = [];
  const streams: TestDiscoveryStream[] = [];
  const client = (c: grpc.Client): grpc.Client => (clients.push(c), c);

  async function start(): Promise<void> {
    cp = await startControlPlane({ dataDir: dir as string, listen: '127.0.0.1:0', http: '127.0.0.1:0', pushDebounceMs: 20, endpointGraceMs: 60_000, logger: quietLogger });
    config = readOperatorConfig(cp.operatorConfigPath);
    admin = client(makeClient(cp, config, 'Admin', operatorCredential(config)));
  }

  /** Identity.Sign as a sidecar calls it: a fresh key; a token (first contact) or the current certificate (renewal). */
  async function sign(spiffeId: string, proxyId: string, auth: { token: string } | { current: ClientCredential }): Promise<{ credential: ClientCredential; response: SignResponse }> {
    const keys = generateKeyPair();
    const identity = makeClient(cp as RunningControlPlane, config, 'Identity', 'current' in auth ? auth.current : undefined);
    try {
      const response = await unaryCall<SignResponse>(identity, 'Sign', { csrPem: createCsr(spiffeId, keys.privateKeyPem), token: 'token' in auth ? auth.token : '', proxyId });
      return { credential: { privateKeyPem: keys.privateKeyPem, certificatePem: response.certificateChainPem.join('') }, response };
    } finally {
      identity.close();
    }
  }

  function stream(credential: ClientCredential): TestDiscoveryStream {
    const s = new TestDiscoveryStream(client(makeClient(cp as RunningControlPlane, config, 'Discovery', credential)));
    streams.push(s);
    return s;
  }

  before(async () => {
    dir = await makeTempDir();
    await start();
  });
  after(async () => {
    for (const s of streams) s.close();
    for (const c of clients) c.close();
    await cp?.close();
    await removeDir(dir);
  });

  it('a revoked token signs nothing more; token lists show state and uses but never the secret', async () => {
    const created = await createToken(admin, 'reviews', { maxUses: 5 });
    await sign(REVIEWS, 'p-1', { token: created.token });
    const id = created.token.split('.')[2] as string;
    const revoked = await unaryCall<RevokeTokenResponse>(admin, 'RevokeToken', { id });
    expect(revoked.token).to.include({ id, state: 'revoked', uses: 1, maxUses: 5, spiffeId: REVIEWS });
    const err = await callError(sign(REVIEWS, 'p-2', { token: created.token }));
    expect(err.code).to.equal(grpc.status.UNAUTHENTICATED);
    expect(err.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_TOKEN_REVOKED']);
    expect(err.details).to.match(new RegExp(`join token ${id} was revoked at .*: create a new one with \`weftctl token create --service reviews\``));

    const listed = await unaryCall<ListTokensResponse>(admin, 'ListTokens', {});
    const entry = listed.tokens.find((t) => t.id === id);
    expect(entry).to.include({ state: 'revoked', uses: 1, rootFingerprint: cp?.rootFingerprint });
    expect(entry?.revokedAtMs).to.be.greaterThan(0);
    const text = JSON.stringify(listed);
    expect(text).to.not.include(created.token.split('.')[3]);
    expect(text).to.not.match(/secret/i);
    const unknown = await callError(unaryCall(admin, 'RevokeToken', { id: '0123456789abcdef' }));
    expect(unknown.code).to.equal(grpc.status.NOT_FOUND);
  });

  it('a removed proxy loses its stream and endpoint at once, and none of its certificates renews, across a restart', async () => {
    // Two proxies join with one token here, so it must allow two uses (the default is one).
    const { token } = await createToken(admin, 'reviews', { maxUses: 2 });
    const tokenId = token.split('.')[2];
    const first = await sign(REVIEWS, 'doomed', { token });
    const current = await sign(REVIEWS, 'doomed', { current: first.credential });
    const doomed = stream(current.credential);
    doomed.announce({ proxyId: 'doomed', service: 'reviews', address: '127.0.0.1:1001' });
    doomed.ack(await doomed.next());
    const bystander = await sign(REVIEWS, 'bystander', { token });
    const other = stream(bystander.credential);
    other.announce({ proxyId: 'bystander', service: 'reviews', address: '127.0.0.1:1002' });
    other.ack(await other.next());

    const removed = await unaryCall<RemoveProxyResponse>(admin, 'RemoveProxy', { proxyId: 'doomed' });
    const serials = [first, current].map((s) => normalizeSerial(certificateInfo(s.response.certificateChainPem[0] as string).serialNumber));
    expect(removed.revokedSerials).to.have.members(serials);
    expect(removed.tokenIds).to.deep.equal([tokenId]);
    expect(removed.lastCertificateExpiresAtMs).to.equal(current.response.expiresAtMs);
    const ended = await doomed.failure();
    expect(ended.code).to.equal(grpc.status.PERMISSION_DENIED);
    expect(ended.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_PROXY_REMOVED']);
    const endpoints = await unaryCall<ListServicesResponse>(admin, 'ListServices', {});
    expect(endpoints.services.find((s) => s.service === 'reviews')?.endpoints.map((e) => e.proxyId)).to.deep.equal(['bystander']);

    const refusedBy = async (attempt: Promise<unknown>): Promise<void> => {
      const err = await callError(attempt);
      expect(err.code).to.equal(grpc.status.PERMISSION_DENIED);
      expect(err.metadata.get('weft-error-code')).to.deep.equal(['WEFT_ERR_PROXY_REMOVED']);
    };
    // Neither its current certificate nor an older one renews; not even its token under its proxy id.
    await refusedBy(sign(REVIEWS, 'doomed', { current: current.credential }));
    await refusedBy(sign(REVIEWS, 'renamed', { current: first.credential }));
    await refusedBy(sign(REVIEWS, 'doomed', { token }));
    const again = stream(current.credential);
    again.announce({ proxyId: 'doomed', service: 'reviews' });
    expect((await again.failure()).code).to.equal(grpc.status.PERMISSION_DENIED);
    // The rest of the mesh is untouched.
    await sign(REVIEWS, 'bystander', { current: bystander.credential });
    expect(other.error).to.equal(undefined);
    expect((await callError(unaryCall(admin, 'RemoveProxy', { proxyId: 'never-seen' }))).code).to.equal(grpc.status.NOT_FOUND);

    for (const s of streams.splice(0)) s.close();
    for (const c of clients.splice(0)) c.close();
    await cp?.close();
    await start();
    await refusedBy(sign(REVIEWS, 'doomed', { current: current.credential }));
    await waitFor('the bystander to renew', async () => (await sign(REVIEWS, 'bystander', { current: bystander.credential })).response, 2000);
  });
});
