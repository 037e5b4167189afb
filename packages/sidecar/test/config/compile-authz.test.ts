import { expect } from 'chai';
import { decide } from '@weft/api';
import { compileSnapshot } from '../../src/config/compiled-config';
import { doc, SELF, snapshot } from './snapshot-builder';

describe('config: the authorization table of the sidecar\'s own service', () => {
  const policies = [
    doc('AuthorizationPolicy', 'b-allow', { service: 'frontend', action: 'ALLOW', rules: [{ from: [{ service: 'gateway' }] }] }),
    doc('AuthorizationPolicy', 'a-deny', { service: 'frontend', action: 'DENY', rules: [{ to: [{ paths: ['/admin*'] }] }] }),
    doc('AuthorizationPolicy', 'other', { service: 'orders', action: 'DENY', rules: [{}] }),
  ];

  it('is compiled once per version, for this service only, with {service} resolved in its trust domain', () => {
    const config = compileSnapshot(snapshot({ resources: policies }), 'v1', SELF);
    expect(config.authz.deny.map((p) => p.name)).to.deep.equal(['default/a-deny']);
    expect(config.authz.allow.map((p) => p.name)).to.deep.equal(['default/b-allow']);
    expect(decide(config.authz, { principal: 'spiffe://weft.local/ns/default/sa/gateway', method: 'GET', path: '/' }).allowed).to.equal(true);
    expect(Object.isFrozen(config.authz)).to.equal(true);
  });

  it('is empty without policies: every caller is allowed', () => {
    const config = compileSnapshot(snapshot(), 'v1', SELF);
    expect(decide(config.authz, { principal: '', method: 'GET', path: '/' })).to.include({ allowed: true, cause: 'no-allow-policy' });
  });

  it('is shown on /config, DENY first', () => {
    const view = compileSnapshot(snapshot({ resources: policies }), 'v1', SELF).describe() as { authorization: { policies: { policy: string; action: string }[]; default: string } };
    expect(view.authorization.policies.map((p) => `${p.action} ${p.policy}`)).to.deep.equal(['DENY default/a-deny', 'ALLOW default/b-allow']);
    expect(view.authorization.default).to.match(/^deny/);
  });

  it('refuses the snapshot (NACK) when a policy does not validate, naming it', () => {
    const bad = doc('AuthorizationPolicy', 'bad', { service: 'frontend', action: 'ALLOW', rules: [{ to: [{ paths: ['/a/*/b'] }] }] });
    expect(() => compileSnapshot(snapshot({ resources: [bad] }), 'v2', SELF)).to.throw(/AuthorizationPolicy bad: spec\.rules\[0\]\.to\[0\]\.paths\[0\]: "\*" is allowed only at the end/);
  });
});
