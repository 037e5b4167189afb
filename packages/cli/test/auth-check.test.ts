import type { GetRequest } from '@weft/api';
import { expect } from 'chai';
import { run } from '../src/main';
import { FAKE_CONFIG, fakeAdmin, memoryIo } from './memory-io';

const CFG = ['--config', '/c.json'];
const files = { '/c.json': FAKE_CONFIG };

/** What Admin.Get returns for AuthorizationPolicies in `default`: as stored, one JSON per item. */
const STORED = [
  {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'orders-callers', namespace: 'default' },
    spec: { service: 'orders', action: 'ALLOW', rules: [{ from: [{ service: 'frontend' }], to: [{ methods: ['GET'], paths: ['/orders/*'] }] }] },
  },
  {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'orders-no-delete', namespace: 'default' },
    spec: { service: 'orders', action: 'DENY', rules: [{ to: [{ methods: ['DELETE'] }] }] },
  },
  {
    apiVersion: 'weft.dev/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name: 'reviews-nobody', namespace: 'default' },
    spec: { service: 'reviews', action: 'ALLOW' },
  },
];

async function check(args: string[], seen: GetRequest[] = []): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo(files);
  const api = fakeAdmin({
    get: async (req) => {
      seen.push(req);
      // namespace '' is every namespace: the check for unknown services asks for those.
      const stored = req.kind === 'AuthorizationPolicy' && (req.namespace === 'default' || req.namespace === '');
      return { itemsJson: stored ? STORED.map((p) => JSON.stringify(p)) : [], revision: 4 };
    },
    listServices: async () => ({
      services: [{ service: 'inventory', namespace: 'default', spiffeId: 'spiffe://weft.local/ns/default/sa/inventory', endpoints: [] }],
    }),
  });
  const code = await run(['auth', 'check', ...args, ...CFG], io, { connect: () => api });
  return { code, out: io.out, err: io.err };
}

describe('weftctl auth check', () => {
  it('exits 0 for an allowed request and names the policy and rule that allowed it', async () => {
    const seen: GetRequest[] = [];
    const r = await check(['--from', 'frontend', '--to', 'orders', '--method', 'get', '--path', '/orders/7?x=1'], seen);
    expect(r.code, r.err).to.equal(0);
    expect(seen).to.deep.include({ kind: 'AuthorizationPolicy', namespace: 'default', name: '' });
    expect(r.err, 'orders and frontend are named by policies: known').to.equal('');
    expect(r.out.split('\n').slice(0, 3)).to.deep.equal([
      'ALLOWED: allowed by AuthorizationPolicy default/orders-callers (ALLOW rule 0)',
      '  caller:  spiffe://weft.local/ns/default/sa/frontend',
      '  request: GET /orders/7 -> orders.default',
    ]);
    expect(r.out).to.match(/ALLOW\s+default\/orders-callers\s+1 rule\s+<- rule 0 matched/);
    expect(r.out).to.contain('same code the sidecars of orders run');
  });

  it('exits 1 for a denied request; DENY is checked first', async () => {
    const r = await check(['--from', 'frontend', '--to', 'orders', '--method', 'DELETE', '--path', '/orders/7']);
    expect(r.code).to.equal(1);
    expect(r.out.split('\n')[0]).to.equal('DENIED (403 WEFT_ERR_AUTHZ_DENIED): denied by AuthorizationPolicy default/orders-no-delete (DENY rule 0)');
    expect(r.err).to.equal('');
  });

  it('-o json carries the decision, the status the sidecar would answer and the policies', async () => {
    const r = await check(['--principal', 'spiffe://weft.local/ns/ops/sa/admin', '--to', 'orders', '--method', 'GET', '--path', '/orders//7', '-o', 'json']);
    expect(r.code).to.equal(1);
    const json = JSON.parse(r.out) as Record<string, unknown>;
    expect(json).to.deep.include({
      allowed: false,
      cause: 'no-allow-match',
      httpStatus: 403,
      caller: 'spiffe://weft.local/ns/ops/sa/admin',
      path: '/orders/7',
      reason: 'no ALLOW policy for orders matches caller spiffe://weft.local/ns/ops/sa/admin GET /orders/7',
    });
    expect((json['policies'] as { policy: string }[]).map((p) => p.policy)).to.deep.equal(['default/orders-no-delete', 'default/orders-callers']);
  });

  it('checks a caller without identity, and a caller from another namespace', async () => {
    const plain = await check(['--plaintext', '--to', 'orders', '--method', 'GET', '--path', '/orders/1']);
    expect(plain.code).to.equal(1);
    expect(plain.out).to.contain('matches caller (no identity: plaintext) GET /orders/1');
    const other = await check(['--from', 'frontend', '--from-namespace', 'shop', '--to', 'orders', '--method', 'GET', '--path', '/orders/1']);
    expect(other.code).to.equal(1);
    expect(other.out).to.contain('spiffe://weft.local/ns/shop/sa/frontend');
  });

  it('says a service without policies allows everyone, and an ALLOW policy without rules allows nobody', async () => {
    const open = await check(['--from', 'frontend', '--to', 'inventory', '--method', 'GET', '--path', '/']);
    expect(open.code).to.equal(0);
    expect(open.out).to.contain('no AuthorizationPolicy applies to inventory.default: every caller is allowed');
    const closed = await check(['--from', 'frontend', '--to', 'reviews', '--method', 'GET', '--path', '/']);
    expect(closed.code).to.equal(1);
  });

  it('warns on stderr about a --to or --from service nobody knows, naming the likely one, and still decides', async () => {
    const typo = await check(['--from', 'frontend', '--to', 'inventroy', '--method', 'GET', '--path', '/']);
    expect(typo.code).to.equal(0);
    expect(typo.out).to.match(/^ALLOWED: /);
    expect(typo.err).to.equal(
      'warning: --to inventroy: no service "inventroy" in namespace "default" is known to the control plane (no endpoints, and no policy names it): did you mean "inventory"?\n',
    );
    const caller = await check(['--from', 'frontnd', '--from-namespace', 'default', '--to', 'orders', '--method', 'GET', '--path', '/orders/1']);
    expect(caller.code).to.equal(1);
    expect(caller.err).to.contain('warning: --from frontnd: no service "frontnd" in namespace "default" is known').and.contain('did you mean "frontend"?');
    const nothingNear = await check(['--from', 'frontend', '--to', 'payments', '-n', 'shop', '--method', 'GET', '--path', '/']);
    expect(nothingNear.err).to.contain('no service "payments" in namespace "shop"').and.contain('check the spelling (weftctl get services -A)');
    const elsewhere = await check(['--from', 'frontend', '--to', 'inventory', '-n', 'shop', '--method', 'GET', '--path', '/']);
    expect(elsewhere.err).to.contain('it exists in namespace "default"');
  });

  it('reports a path the sidecar would refuse with 400', async () => {
    const r = await check(['--from', 'frontend', '--to', 'orders', '--method', 'GET', '--path', '/orders%2F..%2Fadmin']);
    expect(r.code).to.equal(1);
    expect(r.out).to.match(/^DENIED \(400 WEFT_ERR_BAD_REQUEST\): the path "\/orders%2F\.\.%2Fadmin" encodes "\/"/);
  });

  const USAGE: readonly (readonly [string[], RegExp])[] = [
    [['--to', 'orders', '--method', 'GET', '--path', '/'], /name the caller once/],
    [['--from', 'a', '--plaintext', '--to', 'orders', '--method', 'GET', '--path', '/'], /name the caller once/],
    [['--from', 'a', '--method', 'GET', '--path', '/'], /--to SERVICE is required/],
    [['--from', 'a', '--to', 'orders', '--path', '/'], /--method is required/],
    [['--from', 'a', '--to', 'orders', '--method', 'GET', '--path', 'x'], /--path is required and starts with "\/"/],
    [['--principal', 'frontend', '--to', 'orders', '--method', 'GET', '--path', '/'], /is not a SPIFFE ID/],
    [['--principal', 'spiffe://weft.local/ns/a/sa/b', '--from-namespace', 'x', '--to', 'o', '--method', 'GET', '--path', '/'], /--from-namespace goes with --from/],
  ];
  for (const [args, message] of USAGE) {
    it(`is a usage error (exit 2) without calling the server: ${args.join(' ')}`, async () => {
      const io = memoryIo(files);
      const api = fakeAdmin();
      expect(await run(['auth', 'check', ...args, ...CFG], io, { connect: () => api })).to.equal(2);
      expect(io.err).to.match(message);
      expect(api.calls).to.deep.equal([]);
    });
  }

  it('knows only the check subcommand', async () => {
    const io = memoryIo(files);
    expect(await run(['auth', 'allow', ...CFG], io, { connect: () => fakeAdmin() })).to.equal(2);
    expect(io.err).to.contain('unknown command "auth allow": use one of "auth check"');
  });
});
