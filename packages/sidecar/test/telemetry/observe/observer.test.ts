import { expect } from 'chai';
import type { ObserveReply } from '@weft/api';
import { TelemetryEvents } from '../../../src/telemetry/events';
import { Observer } from '../../../src/telemetry/observe/observer';
import { RequestRecord } from '../../../src/telemetry/record';

const SELF = 'spiffe://weft.local/ns/default/sa/catalog';
const PEER = 'spiffe://weft.local/ns/default/sa/frontend';

/** An inbound record whose tap-only fields count their reads: a tap is the only reader of them. */
function record(status: number, reads: { n: number }, path = '/items?token=secret'): RequestRecord {
  const r = new RequestRecord('inbound', 'GET');
  Object.assign(r, { source: 'frontend.default', destination: 'catalog.default', route: 'default', status, peerIdentity: PEER, traceId: 'a'.repeat(32), authority: 'catalog' });
  for (const field of ['path', 'method', 'authority', 'traceId'] as const) {
    const value = field === 'path' ? path : r[field];
    Object.defineProperty(r, field, { get: () => (reads.n++, value) });
  }
  return r;
}

describe('telemetry/observe/observer', () => {
  let now = 1_000_000;
  const clock = (): number => now;

  it('counts requests per (direction, source, destination, route) with successes and a histogram', () => {
    const events = new TelemetryEvents();
    const observer = new Observer(SELF, events, clock);
    const reads = { n: 0 };
    for (let i = 0; i < 30; i++) events.emit('weft:request-end', { record: record(200, reads), durationMs: 2 });
    for (let i = 0; i < 10; i++) events.emit('weft:request-end', { record: record(500, reads), durationMs: 300 });
    events.emit('weft:tcp-open', { direction: 'inbound', source: 'frontend.default', destination: 'catalog.default' });
    const replies: ObserveReply[] = [];
    observer.handle({ id: 'q', stat: { windowMs: 60_000 } }, (r) => replies.push(r));
    const stat = replies[0]?.stat;
    expect(stat?.traffic).to.have.length(1);
    expect(stat?.traffic[0]).to.deep.include({ direction: 'inbound', source: 'frontend.default', destination: 'catalog.default', route: 'default', requests: 40, successes: 30 });
    expect(stat?.traffic[0]?.latencyBuckets.reduce((a, b) => a + b, 0)).to.equal(40);
    expect(stat?.tcp[0]).to.deep.include({ open: 1, opened: 1 });
    observer.handle({ id: 'e', edges: true }, (r) => replies.push(r));
    expect(replies[1]?.edges).to.deep.include.members([
      { direction: 'inbound', source: 'frontend.default', destination: 'catalog.default', sourceIdentity: PEER, destinationIdentity: SELF, mtls: true, lastSeenMs: now, requests: 40, connections: 0, proxyId: '' },
    ]);
    expect(reads.n, 'nothing but the summary read the records').to.equal(0);
  });

  it('with no tap open, makes no tap object and reads none of the fields only a tap shows', () => {
    const events = new TelemetryEvents();
    const observer = new Observer(SELF, events, clock);
    const reads = { n: 0 };
    for (let i = 0; i < 1000; i++) events.emit('weft:request-end', { record: record(200, reads), durationMs: 1 });
    expect(observer.activeTaps).to.equal(0);
    expect(reads.n).to.equal(0);
  });

  it('a tap sends the listed fields of matching requests, without the query string, rate-limited, until stopped', () => {
    const events = new TelemetryEvents();
    const observer = new Observer(SELF, events, clock);
    const replies: ObserveReply[] = [];
    observer.handle({ id: 't', tap: { filter: { from: '', to: 'catalog.default', pathPrefix: '/items', method: 'get', direction: '' }, maxRps: 3, durationMs: 60_000 } }, (r) => replies.push(r));
    expect(observer.activeTaps).to.equal(1);
    const reads = { n: 0 };
    for (let i = 0; i < 5; i++) events.emit('weft:request-end', { record: record(200, reads), durationMs: 1 });
    events.emit('weft:request-end', { record: record(200, reads, '/other'), durationMs: 1 });
    expect(reads.n).to.be.greaterThan(0);
    observer.handle({ id: 't', tapStop: true }, (r) => replies.push(r));
    expect(observer.activeTaps).to.equal(0);
    const last = replies.at(-1) as ObserveReply;
    expect(last.tapEnded).to.equal(true);
    expect(last.tapDropped, 'over 3 per second').to.equal(2);
    expect(last.tapEvents).to.have.length(3);
    expect(last.tapEvents?.[0]).to.deep.include({ path: '/items', method: 'GET', status: 200, peerIdentity: PEER, mtls: true, source: 'frontend.default' });
    expect(JSON.stringify(replies)).not.to.contain('secret');
    // Stopped: requests are not read again.
    const after = reads.n;
    events.emit('weft:request-end', { record: record(200, reads), durationMs: 1 });
    expect(reads.n).to.equal(after);
    now += 1;
  });

  it('ends every tap when the stream goes', () => {
    const events = new TelemetryEvents();
    const observer = new Observer(SELF, events, clock);
    const replies: ObserveReply[] = [];
    observer.handle({ id: 'a', tap: { filter: null, maxRps: 0, durationMs: 0 } }, (r) => replies.push(r));
    observer.handle({ id: 'b', tap: { filter: null, maxRps: 0, durationMs: 0 } }, (r) => replies.push(r));
    observer.endTaps();
    expect(observer.activeTaps).to.equal(0);
    expect(replies.map((r) => [r.id, r.tapEnded])).to.deep.equal([['a', true], ['b', true]]);
  });
});
