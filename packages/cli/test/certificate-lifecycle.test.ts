import type { CaStatus, ProxyStatus, TokenInfo } from '@weft/api';
import { expect } from 'chai';
import { run } from '../src/main';
import { FAKE_CONFIG, fakeAdmin, memoryIo } from './memory-io';

const CFG = ['--config', '/c.json'];
const files = { '/c.json': FAKE_CONFIG };
const NOW = 1_700_000_000_000;
const OLD = 'a1'.repeat(32);
const NEW = 'b2'.repeat(32);

const token: TokenInfo = {
  id: '0123456789abcdef', spiffeId: 'spiffe://weft.local/ns/shop/sa/orders', service: 'orders', namespace: 'shop',
  createdAtMs: NOW - 60_000, expiresAtMs: NOW + 3_600_000, uses: 1, maxUses: 0, revokedAtMs: 0, rootFingerprint: OLD, state: 'valid',
};

function status(phase: string, extra: Partial<CaStatus> = {}): CaStatus {
  return {
    phase, phaseSinceMs: NOW - 2_000, startedAtMs: NOW - 5_000, signingRootFingerprint: OLD, signer: null, waitingFor: '', lastCompletedAtMs: 0,
    roots: [
      { fingerprint: OLD, subject: 'O=Weft, CN=Weft root CA for weft.local', notBeforeMs: NOW - 1e9, notAfterMs: NOW + 1e10, role: 'old' },
      { fingerprint: NEW, subject: 'O=Weft, CN=Weft root CA for weft.local (2023-11-14)', notBeforeMs: NOW, notAfterMs: NOW + 3e11, role: 'new' },
    ],
    proxies: [{ proxyId: '5c1e2a9b-0000-4000-8000-000000000000', service: 'orders', namespace: 'shop', connected: true, certificateRootFingerprint: OLD, ackedNewBundle: true, waitingFor: 'a certificate from the new root' }],
    ...extra,
  };
}

describe('weftctl token list / token revoke', () => {
  it('lists id, identity, state, uses, expiry and the pinned root; -o json has no secret either', async () => {
    const io = memoryIo(files, { now: NOW });
    expect(await run(['token', 'list', ...CFG], io, { connect: () => fakeAdmin({ listTokens: async () => ({ tokens: [token] }) }) })).to.equal(0);
    expect(io.out).to.equal(
      ['ID                 IDENTITY      STATE   USES   EXPIRES   ROOT', `0123456789abcdef   orders.shop   valid   1/-    in 1h     ${OLD.slice(0, 12)}`, ''].join('\n'),
    );
    const json = memoryIo(files, { now: NOW });
    expect(await run(['token', 'list', '-o', 'json', ...CFG], json, { connect: () => fakeAdmin({ listTokens: async () => ({ tokens: [token] }) }) })).to.equal(0);
    expect(JSON.parse(json.out)).to.deep.equal([token]);
  });

  it('revokes by id, and refuses something that is not a token id before calling anyone', async () => {
    const seen: string[] = [];
    const admin = fakeAdmin({ revokeToken: async (id) => (seen.push(id), { token: { ...token, state: 'revoked', revokedAtMs: NOW } }) });
    const io = memoryIo(files);
    expect(await run(['token', 'revoke', '0123456789abcdef', ...CFG], io, { connect: () => admin })).to.equal(0);
    expect(seen).to.deep.equal(['0123456789abcdef']);
    expect(io.out).to.equal('token 0123456789abcdef revoked (spiffe://weft.local/ns/shop/sa/orders)\n');
    const bad = memoryIo(files);
    expect(await run(['token', 'revoke', 'weft1.abc.def.secret', ...CFG], bad, { connect: () => admin })).to.equal(2);
    expect(bad.err).to.include('starts like a join token but is not a whole one').and.not.include('secret');
    const typo = memoryIo(files);
    expect(await run(['token', 'revoke', 'orders', ...CFG], typo, { connect: () => admin })).to.equal(2);
    expect(typo.err).to.include('"orders" is not a token id');
    expect(seen).to.have.length(1);
  });

  it('revokes by the token exactly as token create printed it, sending only its id', async () => {
    const seen: string[] = [];
    const admin = fakeAdmin({ revokeToken: async (id) => (seen.push(id), { token: { ...token, state: 'revoked', revokedAtMs: NOW } }) });
    const secret = 'S'.repeat(43);
    const io = memoryIo(files);
    expect(await run(['token', 'revoke', `weft1.${OLD}.0123456789abcdef.${secret}`, ...CFG], io, { connect: () => admin })).to.equal(0);
    expect(seen).to.deep.equal(['0123456789abcdef']);
    expect(io.out).to.equal('token 0123456789abcdef revoked (spiffe://weft.local/ns/shop/sa/orders)\n');
    expect(io.out + io.err).to.not.include(secret);
  });
});

describe('weftctl proxy remove', () => {
  const proxies = [{ proxyId: '5c1e2a9b-0000-4000-8000-000000000000' }, { proxyId: '5c1e0000-0000-4000-8000-000000000000' }] as ProxyStatus[];

  it('takes a unique prefix, says when the certificate dies, and points at the token it joined with', async () => {
    const removed: string[] = [];
    const admin = fakeAdmin({
      listProxies: async () => ({ proxies, currentRevision: '1' }),
      removeProxy: async (id) => (removed.push(id), { proxyId: id, spiffeId: token.spiffeId, revokedSerials: ['ab', 'cd'], lastCertificateExpiresAtMs: NOW + 7_200_000, tokenIds: [token.id] }),
    });
    const io = memoryIo(files, { now: NOW });
    expect(await run(['proxy', 'remove', '5c1e2', ...CFG], io, { connect: () => admin })).to.equal(0);
    expect(removed).to.deep.equal(['5c1e2a9b-0000-4000-8000-000000000000']);
    expect(io.out).to.equal(
      `proxy 5c1e2a9b-0000-4000-8000-000000000000 (${token.spiffeId}) removed: 2 certificates revoked; its certificate stops working at ${new Date(NOW + 7_200_000).toISOString()} (in 2h)\n`,
    );
    expect(io.err).to.include(`weftctl token revoke ${token.id}`);
  });

  it('refuses an ambiguous prefix, naming the candidates', async () => {
    const io = memoryIo(files);
    expect(await run(['proxy', 'remove', '5c1e', ...CFG], io, { connect: () => fakeAdmin({ listProxies: async () => ({ proxies, currentRevision: '1' }) }) })).to.equal(1);
    expect(io.err).to.include('2 proxies start with "5c1e"');
  });
});

describe('weftctl ca status / ca rotate-root', () => {
  it('shows the phase, what it waits for, the roots, and where each proxy stands', async () => {
    const io = memoryIo(files, { now: NOW });
    const s = status('reissue', { signingRootFingerprint: NEW, waitingFor: '1 proxy: orders.shop (5c1e2a9b): a certificate from the new root' });
    expect(await run(['ca', 'status', ...CFG], io, { connect: () => fakeAdmin({ caStatus: async () => s }) })).to.equal(0);
    expect(io.out).to.include('PHASE:    reissue (since 2s ago; rotation started 5s ago)');
    expect(io.out).to.include(`SIGNING:  root ${NEW.slice(0, 12)}`);
    expect(io.out).to.include('WAITING FOR: 1 proxy: orders.shop (5c1e2a9b): a certificate from the new root');
    expect(io.out).to.match(new RegExp(`${OLD.slice(0, 12)}\\s+old\\s+in `));
    expect(io.out).to.match(/orders\.shop\s+5c1e2a9b\s+a1a1a1a1a1a1\s+yes\s+a certificate from the new root/);
  });

  it('--wait prints each phase until the rotation is done', async () => {
    // The poll misses retire (too short to see): it is printed all the same.
    const sequence = [status('overlap'), status('reissue'), status('idle', { lastCompletedAtMs: NOW })];
    const admin = fakeAdmin({ rotateRoot: async () => status('overlap'), caStatus: async () => sequence.shift() ?? status('idle', { lastCompletedAtMs: NOW }) });
    const io = memoryIo(files, { now: NOW });
    expect(await run(['ca', 'rotate-root', '--wait', ...CFG], io, { connect: () => admin })).to.equal(0);
    expect(io.out).to.equal(`root rotation started: new root ${NEW}\nphase overlap\nphase reissue\nphase retire\nphase idle\nrotation complete: every proxy holds a certificate from the new root, and the old root is retired\n`);
  });

  it('gives up waiting after --timeout with what holds it up, and exits 1 (the rotation goes on)', async () => {
    const stuck = status('overlap', { waitingFor: '1 proxy: orders.shop (5c1e2a9b): ACK of the trust bundle with the new root' });
    const io = memoryIo(files, { now: NOW });
    expect(await run(['ca', 'rotate-root', '--wait', '--timeout', '1ms', ...CFG], io, { connect: () => fakeAdmin({ rotateRoot: async () => stuck, caStatus: async () => stuck }) })).to.equal(1);
    expect(io.err).to.include('still in phase overlap').and.include('ACK of the trust bundle with the new root').and.include('weftctl proxy remove');
    const usage = memoryIo(files);
    expect(await run(['ca', 'rotate-root', '--timeout', '1m', ...CFG], usage)).to.equal(2);
    expect(usage.err).to.include('--timeout goes with --wait');
  });
});
