import { expect } from 'chai';
import { compileAuthorization, decide, parseDocuments, validateDocuments, type AuthorizationPolicy, type AuthzDecision } from '../../src';

const FRONTEND = 'spiffe://weft.local/ns/default/sa/frontend';
const ADMIN = 'spiffe://weft.local/ns/ops/sa/admin';
const BATCH = 'spiffe://weft.local/ns/jobs/sa/batch';
const STRANGER = 'spiffe://weft.local/ns/default/sa/stranger';
const PLAINTEXT = '';

/** Policies as an operator writes them, through the real schema. */
function policies(yaml: string): AuthorizationPolicy[] {
  return validateDocuments(parseDocuments(yaml, 'authz.yaml')) as AuthorizationPolicy[];
}

const HEAD = 'apiVersion: weft.dev/v1alpha1\nkind: AuthorizationPolicy';

/** Every policy the cases below run against; several services so that filtering is exercised. */
const ALL = policies(`${HEAD}
metadata: {name: orders-callers}
spec:
  service: orders
  action: ALLOW
  rules:
    - from: [{service: frontend}, {principal: "${ADMIN}"}]
      to: [{methods: [GET, POST], paths: ["/orders", "/orders/*"]}]
    - from: [{service: batch, namespace: jobs}]
---
${HEAD}
metadata: {name: orders-no-delete}
spec:
  service: orders
  action: DENY
  rules:
    - to: [{methods: [DELETE]}]
    - from: [{service: frontend}]
      to: [{paths: ["/admin*"]}]
---
${HEAD}
metadata: {name: payments-nobody}
spec: {service: payments, action: ALLOW}
---
${HEAD}
metadata: {name: reviews-deny-stranger}
spec:
  service: reviews
  action: DENY
  rules: [{from: [{service: stranger}]}]
---
${HEAD}
metadata: {name: ratings-anyone}
spec: {service: ratings, action: ALLOW, rules: [{}]}
---
${HEAD}
metadata: {name: orders-elsewhere, namespace: shop}
spec: {service: orders, action: DENY, rules: [{}]}
`);

type Case = readonly [label: string, service: string, principal: string, method: string, path: string, expected: Partial<AuthzDecision>];

const CASES: readonly Case[] = [
  // ALLOW by service (namespace defaults to the policy's) and by principal; method and path both checked.
  ['service source, exact path', 'orders', FRONTEND, 'GET', '/orders', { allowed: true, cause: 'allow-rule', policy: 'default/orders-callers', rule: 0 }],
  ['service source, prefix path', 'orders', FRONTEND, 'POST', '/orders/7/items', { allowed: true, policy: 'default/orders-callers', rule: 0 }],
  ['principal source', 'orders', ADMIN, 'GET', '/orders/1', { allowed: true, rule: 0 }],
  ['rule without `to` allows any operation', 'orders', BATCH, 'PUT', '/anything', { allowed: true, rule: 1 }],
  ['method not listed', 'orders', FRONTEND, 'PUT', '/orders', { allowed: false, cause: 'no-allow-match' }],
  ['path not listed', 'orders', FRONTEND, 'GET', '/order', { allowed: false, cause: 'no-allow-match' }],
  ['prefix is not the exact path without the slash', 'orders', FRONTEND, 'GET', '/ordersX', { allowed: false, cause: 'no-allow-match' }],
  ['caller not listed', 'orders', STRANGER, 'GET', '/orders', { allowed: false, cause: 'no-allow-match' }],
  ['same service name in another namespace is another caller', 'orders', 'spiffe://weft.local/ns/shop/sa/frontend', 'GET', '/orders', { allowed: false }],
  ['same service in another trust domain is another caller', 'orders', 'spiffe://other.td/ns/default/sa/frontend', 'GET', '/orders', { allowed: false }],
  // DENY before ALLOW, whatever their names.
  ['DENY without `from` applies to every caller', 'orders', ADMIN, 'DELETE', '/orders/1', { allowed: false, cause: 'deny-rule', policy: 'default/orders-no-delete', action: 'DENY', rule: 0 }],
  ['DENY wins over a matching ALLOW rule', 'orders', BATCH, 'DELETE', '/x', { allowed: false, cause: 'deny-rule', rule: 0 }],
  ['DENY by caller and path prefix', 'orders', FRONTEND, 'GET', '/admin/users', { allowed: false, cause: 'deny-rule', rule: 1 }],
  ['DENY prefix does not catch another caller', 'orders', BATCH, 'GET', '/admin/users', { allowed: true, cause: 'allow-rule', rule: 1 }],
  // Callers without identity (plaintext in PERMISSIVE mode) match no `from`.
  ['plaintext caller matches no ALLOW `from`', 'orders', PLAINTEXT, 'GET', '/orders', { allowed: false, cause: 'no-allow-match' }],
  ['plaintext caller still hits a DENY without `from`', 'orders', PLAINTEXT, 'DELETE', '/orders', { allowed: false, cause: 'deny-rule' }],
  ['plaintext caller is allowed by an ALLOW rule without `from`', 'ratings', PLAINTEXT, 'GET', '/', { allowed: true, cause: 'allow-rule' }],
  ['plaintext caller does not match a DENY by service', 'reviews', PLAINTEXT, 'GET', '/', { allowed: true, cause: 'no-allow-policy' }],
  // Defaults.
  ['no policy at all: allowed', 'inventory', STRANGER, 'GET', '/', { allowed: true, cause: 'no-allow-policy' }],
  ['only DENY policies: allowed unless denied', 'reviews', FRONTEND, 'GET', '/', { allowed: true, cause: 'no-allow-policy' }],
  ['only DENY policies: denied when one matches', 'reviews', STRANGER, 'GET', '/', { allowed: false, cause: 'deny-rule', policy: 'default/reviews-deny-stranger' }],
  ['ALLOW policy without rules allows nothing', 'payments', FRONTEND, 'GET', '/', { allowed: false, cause: 'no-allow-match' }],
  ['ALLOW rule `{}` allows everything', 'ratings', STRANGER, 'PATCH', '/x', { allowed: true, policy: 'default/ratings-anyone', rule: 0 }],
  // Path normalization when rules look at paths.
  ['dot segments cannot reach a denied path', 'orders', FRONTEND, 'GET', '/orders/../admin/x', { allowed: false, cause: 'deny-rule', rule: 1, path: '/admin/x' }],
  ['encoded letters cannot dodge a denied prefix', 'orders', FRONTEND, 'GET', '/%61dmin', { allowed: false, cause: 'deny-rule', path: '/admin' }],
  ['double slashes cannot dodge a denied prefix', 'orders', FRONTEND, 'GET', '//admin', { allowed: false, cause: 'deny-rule', path: '/admin' }],
  ['an encoded slash is refused', 'orders', FRONTEND, 'GET', '/orders%2F..%2Fadmin', { allowed: false, cause: 'ambiguous-path' }],
  ['a normalized allowed path is allowed, and says which path it judged', 'orders', FRONTEND, 'GET', '/orders/./7', { allowed: true, path: '/orders/7' }],
];

describe('authz: decide', () => {
  const tables = new Map<string, ReturnType<typeof compileAuthorization>>();
  const tableFor = (service: string) => {
    let t = tables.get(service);
    if (!t) tables.set(service, (t = compileAuthorization(ALL, service, 'default')));
    return t;
  };

  for (const [label, service, principal, method, path, expected] of CASES) {
    it(`${label}: ${service} <- ${principal || '(plaintext)'} ${method} ${path}`, () => {
      const d = decide(tableFor(service), { principal, method, path });
      expect(d).to.include(expected);
      // A decision without a policy names none; one made by a rule names it and its action.
      if (d.cause === 'allow-rule' || d.cause === 'deny-rule') expect(d.policy).to.be.a('string');
      else expect(d.policy).to.equal(undefined);
    });
  }

  it('says who was denied by what, in the words the 403 body uses', () => {
    expect(decide(tableFor('orders'), { principal: ADMIN, method: 'DELETE', path: '/orders/1' }).reason).to.equal(
      'denied by AuthorizationPolicy default/orders-no-delete (DENY rule 0)',
    );
    expect(decide(tableFor('orders'), { principal: STRANGER, method: 'GET', path: '/x' }).reason).to.equal(
      `no ALLOW policy for orders matches caller ${STRANGER} GET /x`,
    );
    expect(decide(tableFor('orders'), { principal: '', method: 'GET', path: '/x' }).reason).to.equal(
      'no ALLOW policy for orders matches caller (no identity: plaintext) GET /x',
    );
    expect(decide(tableFor('orders'), { principal: FRONTEND, method: 'GET', path: '/orders' }).reason).to.equal(
      'allowed by AuthorizationPolicy default/orders-callers (ALLOW rule 0)',
    );
  });

  it('compiles only the policies of the service and namespace asked for, DENY apart from ALLOW, in name order', () => {
    const t = compileAuthorization(ALL, 'orders', 'default');
    expect(t.deny.map((p) => p.name)).to.deep.equal(['default/orders-no-delete']);
    expect(t.allow.map((p) => p.name)).to.deep.equal(['default/orders-callers']);
    expect(t.constrainsPaths).to.equal(true);
    const shop = compileAuthorization(ALL, 'orders', 'shop');
    expect(shop.deny.map((p) => p.name)).to.deep.equal(['shop/orders-elsewhere']);
    expect(compileAuthorization(ALL, 'ratings', 'default').constrainsPaths).to.equal(false);
    expect(Object.isFrozen(t) && Object.isFrozen(t.deny) && Object.isFrozen(t.deny[0]?.rules)).to.equal(true);
  });

  it('leaves the path alone when no rule looks at paths', () => {
    const d = decide(tableFor('ratings'), { principal: FRONTEND, method: 'GET', path: '/a/../b%2Fc' });
    expect(d).to.include({ allowed: true, path: '/a/../b%2Fc' });
  });

  it('resolves {service} sources in the trust domain it is given', () => {
    const t = compileAuthorization(ALL, 'orders', 'default', { trustDomain: 'corp.example' });
    expect(decide(t, { principal: 'spiffe://corp.example/ns/jobs/sa/batch', method: 'GET', path: '/' }).allowed).to.equal(true);
    expect(decide(t, { principal: BATCH, method: 'GET', path: '/' }).allowed).to.equal(false);
  });
});
