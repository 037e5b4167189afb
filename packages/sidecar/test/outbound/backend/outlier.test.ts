import { expect } from 'chai';
import { EndpointStates } from '../../../src/balance/endpoint-state';
import type { CompiledOutlier } from '../../../src/config/types';
import { ClientClosedError, ConnectError, UpstreamResetError } from '../../../src/layers/errors';
import { isEndpointFailure, outlier, OutlierDetector, type OutlierClock } from '../../../src/outbound/backend/outlier';
import { TelemetryEvents, type WeftEvents } from '../../../src/telemetry/events';
import { response } from '../../layers/fakes';

/** A clock whose time and timers move only when the test says so. */
class FakeClock implements OutlierClock {
  time = 0;
  readonly #timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.time;
  }
  after(ms: number, fn: () => void): void {
    this.#timers.push({ at: this.time + ms, fn });
  }
  advance(ms: number): void {
    this.time += ms;
    for (const t of this.#timers.filter((t) => t.at <= this.time)) {
      this.#timers.splice(this.#timers.indexOf(t), 1);
      t.fn();
    }
  }
}

const CONFIG: CompiledOutlier = { consecutiveErrors: 3, intervalMs: 10_000, baseEjectionMs: 30_000, maxEjectionMs: 300_000, maxEjectionPercent: 50 };

function setup(addresses = ['a', 'b', 'c', 'd'], config: CompiledOutlier = CONFIG) {
  const states = new EndpointStates();
  const clock = new FakeClock();
  const events = new TelemetryEvents();
  const seen: string[] = [];
  events.on('weft:endpoint-ejected', (e: WeftEvents['weft:endpoint-ejected']) => seen.push(`ejected ${e.endpoint} #${e.ejections} for ${e.durationMs}ms`));
  events.on('weft:endpoint-returned', (e) => seen.push(`returned ${e.endpoint}`));
  const backend = addresses.map((a) => states.get(a));
  const detector = new OutlierDetector('orders.default', config, backend, events, clock);
  const fail = (address: string, times = 1): void => {
    for (let i = 0; i < times; i++) detector.observe(states.get(address), true);
  };
  return { states, clock, seen, detector, fail };
}

describe('backend/outlier', () => {
  it('ejects after consecutiveErrors failures in a row, and a success in between starts the count again', () => {
    const { states, detector, fail, seen } = setup();
    fail('a', 2);
    detector.observe(states.get('a'), false);
    fail('a', 2);
    expect(states.get('a').ejected).to.equal(false);
    fail('a');
    expect(states.get('a').ejected).to.equal(true);
    expect(seen).to.deep.equal(['ejected a #1 for 30000ms']);
  });

  it('returns the endpoint after baseEjectionTime x ejections, capped by the maximum', () => {
    const { states, clock, fail, seen } = setup(['a', 'b'], { ...CONFIG, maxEjectionMs: 50_000 });
    fail('a', 3);
    clock.advance(29_999);
    expect(states.get('a').ejected).to.equal(true);
    clock.advance(1);
    expect(states.get('a').ejected).to.equal(false);
    fail('a', 3); // at once again: the second ejection lasts twice as long, capped at 50 s
    clock.advance(50_000);
    expect(seen).to.deep.equal(['ejected a #1 for 30000ms', 'returned a', 'ejected a #2 for 50000ms', 'returned a']);
  });

  it('forgives one ejection per interval an endpoint stays healthy', () => {
    const { states, clock, fail, seen } = setup(['a', 'b']);
    fail('a', 3);
    clock.advance(30_000);
    fail('a', 3);
    clock.advance(60_000);
    expect(states.get('a').ejections).to.equal(2);
    clock.advance(25_000); // 2.5 intervals healthy: two ejections forgiven
    fail('a', 3);
    expect(seen.at(-1)).to.equal('ejected a #1 for 30000ms');
  });

  // Each row: endpoints in the backend, maxEjectionPercent, endpoints that all fail, how many get ejected.
  const caps: [number, number, number, number][] = [
    [4, 50, 4, 2],
    [3, 50, 3, 1],
    [3, 100, 3, 3],
    [2, 50, 2, 1],
    [1, 50, 1, 0],
    [10, 10, 3, 1],
    [4, 0, 4, 0],
  ];
  for (const [n, percent, failing, ejected] of caps) {
    it(`ejects at most ${percent}% of ${n} endpoints: ${ejected} of ${failing} failing`, () => {
      const addresses = Array.from({ length: n }, (_, i) => `e${i}`);
      const { states, fail } = setup(addresses, { ...CONFIG, maxEjectionPercent: percent });
      for (const a of addresses.slice(0, failing)) fail(a, 5);
      expect(addresses.filter((a) => states.get(a).ejected)).to.have.length(ejected);
    });
  }

  // Each row: an attempt's outcome and whether it counts against the endpoint.
  const outcomes: [string, Parameters<typeof isEndpointFailure>[0], boolean][] = [
    ['a 500', { response: response(500) }, true],
    ['a 503', { response: response(503) }, true],
    ['a 404', { response: response(404) }, false],
    ['a 429', { response: response(429) }, false],
    ['a 200', { response: response(200) }, false],
    ['a gRPC UNAVAILABLE in a 200', { response: { ...response(200), headers: { 'grpc-status': '14' } } }, true],
    ['a gRPC NOT_FOUND in a 200', { response: { ...response(200), headers: { 'grpc-status': '5' } } }, false],
    ['a connect failure', { error: new ConnectError('o', 'a', new Error('ECONNREFUSED')) }, true],
    ['a reset', { error: new UpstreamResetError('o', 'a', new Error('socket hang up')) }, true],
    ['the client going away', { error: new ClientClosedError() }, false],
  ];
  for (const [what, outcome, counts] of outcomes) it(`${counts ? 'counts' : 'does not count'} ${what}`, () => expect(isEndpointFailure(outcome)).to.equal(counts));

  it('as a layer, watches each attempt on the endpoint it was sent to', async () => {
    const states = new EndpointStates();
    const events = new TelemetryEvents();
    const svc = outlier(
      { destination: { key: 'orders.default' }, endpoints: [{ address: 'a', proxyId: 'a', labels: {} }], outlier: { ...CONFIG, consecutiveErrors: 2, maxEjectionPercent: 100 } },
      { states, events, clock: new FakeClock() },
      async (req: { endpoint: { address: string } }) => {
        if (req.endpoint.address === 'a') throw new ConnectError('o', 'a', new Error('ECONNREFUSED'));
        return response(200);
      },
    );
    const req = { endpoint: { address: 'a', proxyId: 'a', labels: {} } };
    await svc(req).catch(() => undefined);
    await svc(req).catch(() => undefined);
    expect(states.get('a').ejected).to.equal(true);
  });

  it('is the next service itself without outlierDetection', () => {
    const next = async () => response(200);
    expect(outlier({ destination: { key: 'o' }, endpoints: [], outlier: undefined }, { states: new EndpointStates(), events: new TelemetryEvents() }, next)).to.equal(next);
  });
});
