import { expect } from 'chai';
import { compileAuthorization, parseDocuments, validateDocuments, type AuthorizationPolicy } from '@weft/api';
import { authorize, AuthzDeniedError, type AuthorizeRequest } from '../../src/inbound/authorize';
import { BadRequestError, NotReadyError, ProxyError } from '../../src/layers/errors';
import { TelemetryEvents, type WeftEvents } from '../../src/telemetry/events';
import type { SpanAttributes } from '../../src/telemetry/trace';
import { response } from '../layers/fakes';

const FRONTEND = 'spiffe://weft.local/ns/default/sa/frontend';
const POLICIES = validateDocuments(
  parseDocuments(
    `apiVersion: weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: orders-callers}
spec: {service: orders, action: ALLOW, rules: [{from: [{service: frontend}], to: [{paths: ["/orders/*"]}]}]}
---
apiVersion: weft.dev/v1alpha1
kind: AuthorizationPolicy
metadata: {name: orders-no-delete}
spec: {service: orders, action: DENY, rules: [{to: [{methods: [DELETE]}]}]}
`,
    'authz.yaml',
  ),
) as AuthorizationPolicy[];
const TABLE = compileAuthorization(POLICIES, 'orders', 'default');

/** A request as the layer sees it after tls-terminate and trace, with what it did recorded. */
function request(overrides: Partial<AuthorizeRequest> & { principal?: string } = {}): AuthorizeRequest & { attributes: SpanAttributes } {
  const attributes: SpanAttributes = {};
  return {
    method: 'GET',
    path: '/orders/1',
    target: '/orders/1?x=1',
    config: { authz: TABLE },
    peer: { spiffeId: overrides.principal ?? FRONTEND },
    span: { recording: true, setAttributes: (a) => Object.assign(attributes, a) },
    record: { source: 'frontend.default', destination: 'orders.default' },
    attributes,
    ...overrides,
  };
}

function harness(): { events: TelemetryEvents; denied: WeftEvents['weft:authz-denied'][]; seen: AuthorizeRequest[]; layer: ReturnType<typeof authorize> } {
  const events = new TelemetryEvents();
  const denied: WeftEvents['weft:authz-denied'][] = [];
  events.on('weft:authz-denied', (e) => denied.push(e));
  const seen: AuthorizeRequest[] = [];
  const layer = authorize<AuthorizeRequest>(events, async (req) => {
    seen.push(req);
    return response(200, 'app');
  });
  return { events, denied, seen, layer };
}

describe('inbound/authorize', () => {
  it('lets an allowed request through unchanged and marks the span', async () => {
    const h = harness();
    const req = request();
    expect((await h.layer(req)).status).to.equal(200);
    expect(h.seen[0]).to.equal(req);
    expect(req.attributes).to.deep.equal({
      'weft.authz.decision': 'allow',
      'weft.authz.cause': 'allow-rule',
      'weft.authz.policy': 'default/orders-callers',
      'weft.authz.rule': 0,
    });
    expect(h.denied).to.deep.equal([]);
  });

  it('refuses a denied request with 403 naming the policy, before the app, and reports it', async () => {
    const h = harness();
    const req = request({ method: 'DELETE' });
    const err = await h.layer(req).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(AuthzDeniedError);
    const e = err as AuthzDeniedError;
    expect([e.httpStatus, e.code]).to.deep.equal([403, 'WEFT_ERR_AUTHZ_DENIED']);
    expect(e.message).to.match(/^denied by AuthorizationPolicy default\/orders-no-delete \(DENY rule 0\): to see why, run `weftctl auth check --principal spiffe:\/\/weft\.local\/ns\/default\/sa\/frontend --to orders --namespace default --method DELETE --path \/orders\/1`/);
    expect(h.seen).to.have.length(0);
    expect(req.attributes).to.include({ 'weft.authz.decision': 'deny', 'weft.authz.policy': 'default/orders-no-delete' });
    expect(h.denied).to.deep.equal([{ source: 'frontend.default', destination: 'orders.default', policy: 'default/orders-no-delete', cause: 'deny-rule' }]);
  });

  it('refuses a caller no ALLOW rule names, including one without identity', async () => {
    const h = harness();
    for (const principal of ['spiffe://weft.local/ns/default/sa/stranger', '']) {
      const err = (await h.layer(request({ principal })).catch((e: unknown) => e)) as ProxyError;
      expect(err.httpStatus).to.equal(403);
      expect(err.message).to.contain('no ALLOW policy for orders matches caller');
    }
    expect(h.denied.map((d) => [d.policy, d.cause])).to.deep.equal([['', 'no-allow-match'], ['', 'no-allow-match']]);
    expect(h.seen).to.have.length(0);
  });

  it('sends the app the normalized path it authorized, query kept', async () => {
    const h = harness();
    await h.layer(request({ path: '/orders/./7//items', target: '/orders/./7//items?a=%2F' }));
    expect([h.seen[0]?.path, h.seen[0]?.target]).to.deep.equal(['/orders/7/items', '/orders/7/items?a=%2F']);
  });

  it('answers 400 for a path it cannot judge, and 503 without a config', async () => {
    const h = harness();
    const ambiguous = await h.layer(request({ path: '/orders%2F..%2Fadmin' })).catch((e: unknown) => e);
    expect(ambiguous).to.be.instanceOf(BadRequestError);
    expect((ambiguous as BadRequestError).httpStatus).to.equal(400);
    const early = await h.layer(request({ config: undefined })).catch((e: unknown) => e);
    expect(early).to.be.instanceOf(NotReadyError);
    expect(h.seen).to.have.length(0);
  });
});
