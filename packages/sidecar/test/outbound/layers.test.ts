import { text } from 'node:stream/consumers';
import { expect } from 'chai';
import type { CompiledBackend, CompiledRule, CompiledService, Destination } from '../../src/config/types';
import { NoEndpointsError, NoRouteError } from '../../src/layers/errors';
import type { ProxyResponse } from '../../src/layers/service';
import type { AttemptState } from '../../src/layers/retry';
import { EndpointStates } from '../../src/balance/endpoint-state';
import { compileServicePolicy } from '../../src/config/compile-policy';
import { balance } from '../../src/outbound/backend/balance';
import { PendingQueues } from '../../src/outbound/backend/pool-limits';
import { discover } from '../../src/outbound/discover';
import { TelemetryEvents } from '../../src/telemetry/events';
import { distribute } from '../../src/outbound/route/distribute';
import { fault } from '../../src/outbound/route/fault';
import { routeMatch } from '../../src/outbound/route/match';
import { neverAborted, noHealth, record, response } from '../layers/fakes';

const dest: Destination = { key: 'orders.default', service: 'orders', namespace: 'default', spiffeId: 'spiffe://weft.local/ns/default/sa/orders' };
const backend = (subset: string | undefined, addresses: string[]): CompiledBackend => ({
  destination: dest,
  subset,
  endpoints: addresses.map((address) => ({ address, proxyId: address, labels: {} })),
  balancer: { name: 'round-robin' },
  outlier: undefined,
  pool: { maxConnections: undefined, maxPendingRequests: 1024, policy: undefined },
});
const service = (rules: CompiledService['rules']): CompiledService => ({
  ...dest,
  rules,
  allEndpoints: [],
  routes: ['orders'],
  subsets: new Map(),
  policy: undefined,
  traffic: compileServicePolicy(undefined),
  notes: [],
});
const lasting = () => ({ states: new EndpointStates(), health: noHealth(), queues: new PendingQueues() });

describe('outbound layers (fake next)', () => {
  describe('discover', () => {
    it('looks the authority up once and records the destination', async () => {
      const s = service([]);
      const rec = record();
      let got: CompiledService | undefined;
      await discover(async (req) => {
        got = req.service;
        return response(200);
      })({ authority: 'orders', config: { lookup: (a) => (a === 'orders' ? s : undefined) }, record: rec });
      expect(got).to.equal(s);
      expect(rec.destination).to.equal('orders.default');
      expect(rec.peerIdentity).to.equal(dest.spiffeId);
    });

    it('rejects an unknown authority with WEFT_ERR_NO_ENDPOINTS', async () => {
      const err = await discover(async () => response(200))({ authority: 'nope', config: { lookup: () => undefined }, record: record() }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NoEndpointsError);
      expect((err as NoEndpointsError).httpStatus).to.equal(503);
    });
  });

  describe('routeMatch', () => {
    it('hands the request to the first matching rule stack, and 404s when none matches', async () => {
      const rule: CompiledRule = {
        name: 'orders/0',
        destination: dest,
        matches: [{ path: { kind: 'exact', value: '/a' }, method: undefined, headers: [] }],
        split: { backends: [], cumulative: [], total: 0 },
        timeoutMs: undefined,
        retry: undefined,
        retryBudget: { percent: 20, minRetriesPerSecond: 10 },
        fault: undefined,
        headers: undefined,
      };
      const svc = routeMatch((r) => async () => response(r === rule ? 200 : 500));
      const req = { method: 'GET', path: '/a', headers: {}, service: service([rule]), record: record() };
      expect((await svc(req)).status).to.equal(200);
      expect(req.record.route).to.equal('orders/0');
      const err = await svc({ ...req, path: '/b' }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NoRouteError);
    });
  });

  describe('fault', () => {
    const req = () => ({ signal: neverAborted(), record: record() });
    it('aborts with the configured status without calling next', async () => {
      let called = false;
      const svc = fault({ name: 'orders/0', destination: { key: 'orders.default' }, fault: { delay: undefined, abort: { percent: 100, status: 503 } } }, { events: new TelemetryEvents() }, async () => {
        called = true;
        return response(200);
      });
      const res = await svc(req());
      expect(res.status).to.equal(503);
      expect(res.headers['x-weft-error']).to.equal('WEFT_ERR_FAULT_INJECTED');
      expect(await text(res.body as NodeJS.ReadableStream)).to.contain('fault injected by route orders/0');
      expect(called).to.equal(false);
    });

    it('delays a share of requests, decided per request', async () => {
      const rolls = [0.05, 0.5];
      const svc = fault({ name: 'r', destination: { key: 'r.default' }, fault: { delay: { percent: 10, ms: 30 }, abort: undefined } }, { events: new TelemetryEvents() }, async () => response(200), () => rolls.shift() ?? 1);
      const t0 = Date.now();
      const r1 = req();
      await svc(r1);
      expect(Date.now() - t0).to.be.at.least(25);
      expect(r1.record.phase).to.equal('fault delay');
      const t1 = Date.now();
      await svc(req());
      expect(Date.now() - t1).to.be.below(20);
    });

    it('is the next service itself when the rule has no fault', () => {
      const next = async (): Promise<ProxyResponse> => response(200);
      expect(fault({ name: 'r', destination: { key: 'r.default' }, fault: undefined }, { events: new TelemetryEvents() }, next)).to.equal(next);
    });
  });

  describe('distribute', () => {
    it('picks backends by cumulative weight', async () => {
      const a = backend('a', ['1']);
      const b = backend('b', ['2']);
      const rolls = [0, 0.89, 0.9, 0.99];
      const picked: string[] = [];
      const svc = distribute(
        { split: { backends: [a, b], cumulative: [90, 100], total: 100 } },
        (bk) => async () => {
          picked.push(bk.subset ?? '');
          return response(200);
        },
        () => rolls.shift() ?? 0,
      );
      for (let i = 0; i < 4; i++) await svc({});
      expect(picked).to.deep.equal(['a', 'a', 'b', 'b']);
    });
  });

  describe('balance', () => {
    const attempt = (avoid?: string): AttemptState => ({ number: 1, avoid, endpoint: undefined });
    const balanceRequest = (a: AttemptState) => ({ attempt: a, headers: {}, signal: neverAborted(), record: record() });
    it('round-robins, records the endpoint on the attempt, and avoids the one that failed', async () => {
      const seen: string[] = [];
      const svc = balance(backend(undefined, ['e1', 'e2', 'e3']), lasting(), async (req) => {
        seen.push(req.endpoint.address);
        return response(200);
      });
      const a = attempt();
      await svc(balanceRequest(a));
      expect(a.endpoint).to.equal(seen[0]);
      for (let i = 0; i < 5; i++) await svc(balanceRequest(attempt()));
      expect(new Set(seen).size).to.equal(3);
      for (let i = 0; i < 6; i++) {
        const b = attempt('e2');
        await svc(balanceRequest(b));
        expect(b.endpoint).to.not.equal('e2');
      }
    });

    it('rejects with a 503 naming subset and service when the subset is empty', async () => {
      const err = await balance(backend('v3', []), lasting(), async () => response(200))(balanceRequest(attempt())).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(NoEndpointsError);
      expect((err as Error).message).to.contain('subset "v3" of service "orders.default"');
    });

    it('tells a recorded span which ejected endpoints the pick skipped, and an unrecorded one nothing', async () => {
      const withOutlier: CompiledBackend = {
        ...backend(undefined, ['e1', 'e2', 'e3']),
        outlier: { consecutiveErrors: 1, intervalMs: 1000, baseEjectionMs: 1000, maxEjectionMs: 1000, maxEjectionPercent: 100 },
      };
      const env = lasting();
      const svc = balance(withOutlier, env, async () => response(200));
      const events: [string, unknown][] = [];
      const span = (recording: boolean) => ({ recording, addEvent: (name: string, attributes: unknown) => void events.push([name, attributes]) });
      await svc({ ...balanceRequest(attempt()), span: span(true) });
      expect(events, 'nothing ejected').to.deep.equal([]);
      env.states.get('e2').ejected = true;
      await svc({ ...balanceRequest(attempt()), span: span(false) });
      expect(events, 'not recorded').to.deep.equal([]);
      const a = attempt();
      await svc({ ...balanceRequest(a), span: span(true) });
      expect(a.endpoint).to.not.equal('e2');
      expect(events).to.deep.equal([['weft.endpoint_skipped', { 'weft.endpoint': 'e2', 'weft.reason': 'ejected' }]]);
      // Every endpoint ejected: the balancer uses them all (panic), so none was skipped.
      events.length = 0;
      for (const address of ['e1', 'e3']) env.states.get(address).ejected = true;
      await svc({ ...balanceRequest(attempt()), span: span(true) });
      expect(events).to.deep.equal([]);
    });
  });
});
