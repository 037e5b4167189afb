import { expect } from 'chai';
import { API_VERSION, type AuthorizationPolicy, type AuthorizationPolicySpec } from '@weft/api';
import { CallScope } from '../../src/discovery/snapshot-scope';

const policy = (name: string, namespace: string, spec: AuthorizationPolicySpec): AuthorizationPolicy => ({ apiVersion: API_VERSION, kind: 'AuthorizationPolicy', metadata: { name, namespace }, spec });
const id = (namespace: string, service: string): string => `spiffe://weft.local/ns/${namespace}/sa/${service}`;

describe('CallScope (who may call whom, from AuthorizationPolicies)', () => {
  const scope = new CallScope(
    [
      policy('orders-callers', 'shop', { service: 'orders', action: 'ALLOW', rules: [{ from: [{ service: 'frontend' }, { service: 'batch', namespace: 'jobs' }] }, { from: [{ principal: id('ops', 'admin') }], to: [{ methods: ['GET'] }] }] }),
      policy('open', 'shop', { service: 'catalog', action: 'ALLOW', rules: [{ from: [{ service: 'frontend' }] }, { to: [{ paths: ['/public/*'] }] }] }),
      policy('nobody', 'shop', { service: 'vault', action: 'ALLOW' }),
      policy('no-delete', 'shop', { service: 'reviews', action: 'DENY', rules: [{ from: [{ service: 'frontend' }] }] }),
    ],
    'weft.local',
  );

  const cases: readonly (readonly [caller: string, destination: string, may: boolean, why: string])[] = [
    [id('shop', 'frontend'), 'shop/orders', true, 'named by service, in the policy namespace'],
    [id('jobs', 'batch'), 'shop/orders', true, 'named by service in another namespace'],
    [id('ops', 'admin'), 'shop/orders', true, 'named by principal (whatever the operation)'],
    [id('default', 'frontend'), 'shop/orders', false, 'same service name, other namespace'],
    [id('shop', 'ratings'), 'shop/orders', false, 'named nowhere'],
    [id('shop', 'ratings'), 'shop/catalog', true, 'an ALLOW rule without from: anyone'],
    [id('shop', 'frontend'), 'shop/vault', false, 'an ALLOW policy without rules allows nobody'],
    [id('shop', 'frontend'), 'shop/reviews', true, 'DENY policies never narrow'],
    [id('shop', 'ratings'), 'shop/payments', true, 'no policy: anyone'],
    [id('shop', 'frontend'), 'default/orders', true, 'a policy applies to its own namespace only'],
  ];
  for (const [caller, destination, may, why] of cases) {
    it(`${may ? 'lets' : 'keeps'} ${caller} ${may ? 'call' : 'from'} ${destination}: ${why}`, () => {
      expect(scope.mayCall(caller, destination)).to.equal(may);
    });
  }
});
