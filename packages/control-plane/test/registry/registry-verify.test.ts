import * as path from 'node:path';
import { expect } from 'chai';
import { waitFor } from '@weft/harness';
import { Registry, type RegistryNode } from '../../src/index';
import type { AddressVerifier, VerifyOutcome } from '../../src/registry/endpoint-verify';
import { makeTempDir, removeDir } from '../helpers/fixtures';

const ORDERS = 'spiffe://weft.local/ns/default/sa/orders';

function node(proxyId: string, address: string, extra: Partial<RegistryNode> = {}): RegistryNode {
  return { proxyId, service: 'orders', namespace: 'default', address, labels: {}, ready: true, ...extra };
}

/** A verifier whose answers the test sets per address; it records each dial. */
function scriptedVerifier(answers: Record<string, VerifyOutcome>): AddressVerifier & { dials: string[] } {
  const dials: string[] = [];
  const verify = async (address: string, spiffeId: string): Promise<VerifyOutcome> => {
    dials.push(`${address} ${spiffeId}`);
    return answers[address] ?? { result: 'undecided', detail: 'no answer' };
  };
  return Object.assign(verify, { dials });
}

describe('Registry: announced addresses are published only once verified', () => {
  let dir: string;
  const open: Registry[] = [];

  beforeEach(async () => {
    dir = await makeTempDir();
  });

  afterEach(async () => {
    for (const r of open.splice(0)) await r.close();
    await removeDir(dir);
  });

  async function openRegistry(verify: AddressVerifier, onVerification?: (state: string) => void): Promise<Registry> {
    const r = await Registry.open({ file: path.join(dir, 'registry.json'), graceMs: 60_000, verify, ...(onVerification ? { onVerification: (e) => onVerification(e.verification) } : {}) });
    open.push(r);
    return r;
  }
  const published = (r: Registry): string[] => r.services({ published: true }).flatMap((s) => s.endpoints.map((e) => e.address));
  const state = (r: Registry, id: string): string => `${r.endpoint(id)?.verification}: ${r.endpoint(id)?.verificationDetail}`;

  it('dials the address for the proxy\'s identity at once, and publishes it when it matches', async () => {
    const verify = scriptedVerifier({ '10.0.0.1:15006': { result: 'verified' } });
    const r = await openRegistry(verify);
    r.announce(node('a', '10.0.0.1:15006'), {}, ORDERS);
    expect(published(r)).to.deep.equal([]);
    expect(r.endpoint('a')?.verification).to.equal('verifying');
    await waitFor('the endpoint to be published', () => (published(r).length === 1 ? true : undefined), 1000);
    expect(verify.dials).to.deep.equal([`10.0.0.1:15006 ${ORDERS}`]);
    // A readiness change re-announces the same address: no new dial.
    r.announce(node('a', '10.0.0.1:15006', { ready: false }), {}, ORDERS);
    expect(r.endpoint('a')?.verification).to.equal('verified');
    expect(verify.dials).to.have.length(1);
  });

  it('never publishes an address that serves another identity, and says which', async () => {
    const states: string[] = [];
    const r = await openRegistry(scriptedVerifier({ '10.0.0.2:15006': { result: 'mismatch', detail: '10.0.0.2:15006 serves a certificate for spiffe://weft.local/ns/default/sa/payments' } }), (s) => states.push(s));
    r.announce(node('a', '10.0.0.2:15006'), {}, ORDERS);
    await waitFor('the refusal', () => (r.endpoint('a')?.verification === 'refused' ? true : undefined), 1000);
    expect(state(r, 'a')).to.equal('refused: 10.0.0.2:15006 serves a certificate for spiffe://weft.local/ns/default/sa/payments');
    expect(published(r)).to.deep.equal([]);
    expect(r.services().flatMap((s) => s.endpoints.map((e) => e.address))).to.deep.equal(['10.0.0.2:15006']);
    expect(states).to.deep.equal(['refused']);
  });

  it('keeps an undecided address unpublished and dials it again until it answers', async () => {
    const answers: Record<string, VerifyOutcome> = {};
    const verify = scriptedVerifier(answers);
    const r = await openRegistry(verify);
    r.announce(node('a', '10.0.0.3:15006'), {}, ORDERS);
    await waitFor('the first dial to decide nothing', () => (r.endpoint('a')?.verification === 'unverified' ? true : undefined), 1000);
    expect(published(r)).to.deep.equal([]);
    answers['10.0.0.3:15006'] = { result: 'verified' };
    await waitFor('a later dial to verify it', () => (published(r).length === 1 ? true : undefined), 2000);
    expect(verify.dials.length).to.be.greaterThanOrEqual(2);
  });

  it('does not let an unverified announcement displace a departed endpoint at the same address', async () => {
    const r = await openRegistry(scriptedVerifier({ '10.0.0.4:15006': { result: 'verified' } }));
    const first = {};
    r.announce(node('a', '10.0.0.4:15006'), first, ORDERS);
    await waitFor('a to be published', () => (published(r).length === 1 ? true : undefined), 1000);
    r.withdraw('a', first);
    const impostor = await openRegistry(scriptedVerifier({}));
    impostor.announce(node('x', '10.0.0.9:15006'), {}, ORDERS);
    // Same registry: a second proxy announcing a's address is dialed; until verified, a stays.
    r.announce(node('b', '10.0.0.4:15006'), {}, ORDERS);
    expect(r.endpoint('a')?.state).to.equal('disconnected');
    await waitFor('b to be verified', () => (r.endpoint('b')?.verification === 'verified' ? true : undefined), 1000);
    expect(r.endpoint('a')).to.equal(undefined);
  });
});
