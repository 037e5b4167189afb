import type { ConnectProbeResult } from '@weft/api';
import { expect } from 'chai';
import { EndpointState } from '../../src/balance/endpoint-state';
import { backoffFor, PassiveHealth } from '../../src/balance/passive-health';
import { TelemetryEvents, type WeftEvents } from '../../src/telemetry/events';

/** Timers that run when the test says, and probes that answer what the test queued. */
function harness() {
  const timers: { ms: number; fn: () => void }[] = [];
  const answers: ConnectProbeResult[] = [];
  const probed: string[] = [];
  const bus = new TelemetryEvents();
  const log: string[] = [];
  bus.on('weft:endpoint-down', (e: WeftEvents['weft:endpoint-down']) => log.push(`down ${e.endpoint} ${e.reason} ${e.backoffMs}ms #${e.downs}`));
  bus.on('weft:endpoint-up', (e: WeftEvents['weft:endpoint-up']) => log.push(`up ${e.endpoint} by ${e.by} for ${e.destination}`));
  const health = new PassiveHealth({
    events: bus,
    after: (ms, fn) => void timers.push({ ms, fn }),
    probe: async (address) => {
      probed.push(address);
      return answers.shift() ?? 'refused';
    },
  });
  /** Runs the oldest pending timer and lets its probe settle; returns its delay. */
  const fire = async (): Promise<number> => {
    const t = timers.shift();
    if (!t) throw new Error('no timer pending');
    t.fn();
    await new Promise((r) => setImmediate(r));
    return t.ms;
  };
  return { health, timers, answers, probed, log, fire };
}

describe('balance/passive-health', () => {
  it('backs off 1 s doubling to 30 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(backoffFor)).to.deep.equal([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('takes an endpoint out at its first failed connection, once, and probes it after the backoff', async () => {
    const h = harness();
    const s = new EndpointState('10.0.0.1:15006');
    h.health.failed('orders.default', s, 'WEFT_ERR_CONNECT');
    h.health.failed('orders.default', s, 'WEFT_ERR_CONNECT'); // already out: nothing more
    expect([s.failing, s.downs, h.timers.length]).to.deep.equal([true, 1, 1]);
    h.answers.push('refused', 'unknown', 'listening');
    expect(await h.fire()).to.equal(1000);
    expect(s.failing).to.equal(true);
    expect(await h.fire()).to.equal(2000); // refused: a longer wait
    expect(await h.fire()).to.equal(4000); // no answer proves nothing: still out
    expect(s.failing).to.equal(false); // the third probe connected
    expect(h.probed).to.deep.equal(['10.0.0.1:15006', '10.0.0.1:15006', '10.0.0.1:15006']);
    expect(h.log).to.deep.equal(['down 10.0.0.1:15006 WEFT_ERR_CONNECT 1000ms #1', 'up 10.0.0.1:15006 by probe for orders.default']);
  });

  it('sends a trial request after the probe: a failure takes it out again for longer, an answer forgets the backoff', async () => {
    const h = harness();
    const s = new EndpointState('e');
    h.health.failed('d', s, 'WEFT_ERR_CONNECT');
    h.answers.push('listening');
    await h.fire();
    expect(s.failing).to.equal(false);
    h.health.failed('d', s, 'WEFT_ERR_APP_UNAVAILABLE'); // the trial failed
    expect([s.failing, s.downs]).to.deep.equal([true, 2]);
    expect(h.log[2]).to.equal('down e WEFT_ERR_APP_UNAVAILABLE 2000ms #2');
    h.answers.push('listening');
    await h.fire();
    h.health.succeeded(s); // the next trial got an answer
    expect([s.failing, s.downs]).to.deep.equal([false, 0]);
    h.health.failed('d', s, 'WEFT_ERR_CONNECT');
    expect(h.log.at(-1)).to.equal('down e WEFT_ERR_CONNECT 1000ms #1');
  });

  it('lets an endpoint back at once when a request gets through while it is out (panic sent it there)', () => {
    const h = harness();
    const s = new EndpointState('e');
    h.health.failed('d', s, 'WEFT_ERR_CONNECT');
    h.health.succeeded(s);
    expect([s.failing, s.downs]).to.deep.equal([false, 0]);
    expect(h.log.at(-1)).to.equal('up e by request for d');
  });

  it('costs a healthy endpoint nothing but a field read, and stops probing one that left the config', async () => {
    const h = harness();
    const healthy = new EndpointState('ok');
    h.health.succeeded(healthy);
    expect(h.log).to.deep.equal([]);
    const s = new EndpointState('gone');
    h.health.failed('d', s, 'WEFT_ERR_CONNECT');
    s.retired = true;
    h.health.forget(s);
    await h.fire();
    expect(h.probed).to.deep.equal([]);
    expect(h.timers).to.deep.equal([]);
    expect(h.log.at(-1)).to.equal('up gone by removed for d');
  });
});
