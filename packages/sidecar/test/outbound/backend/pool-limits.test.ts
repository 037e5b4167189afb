import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { EndpointStates } from '../../../src/balance/endpoint-state';
import type { CompiledBackend, CompiledBalancer } from '../../../src/config/types';
import type { ProxyResponse } from '../../../src/layers/service';
import type { AttemptState } from '../../../src/layers/retry';
import { balance } from '../../../src/outbound/backend/balance';
import { OverflowError, PendingQueues } from '../../../src/outbound/backend/pool-limits';
import { neverAborted, noHealth, record } from '../../layers/fakes';

const dest = { key: 'orders.default', service: 'orders', namespace: 'default', spiffeId: 'spiffe://weft.local/ns/default/sa/orders' };

function backend(addresses: string[], pool: { maxConnections?: number; maxPendingRequests?: number }, balancer: CompiledBalancer = { name: 'round-robin' }): CompiledBackend {
  return {
    destination: dest,
    subset: undefined,
    endpoints: addresses.map((address) => ({ address, proxyId: address, labels: {} })),
    balancer,
    outlier: undefined,
    pool: { maxConnections: pool.maxConnections, maxPendingRequests: pool.maxPendingRequests ?? 1024, policy: 'orders' },
  };
}

/** A fake endpoint stack whose responses stream until the test ends them. */
function heldUpstream() {
  const bodies: { endpoint: string; body: PassThrough }[] = [];
  const next = async (req: { endpoint: { address: string } }): Promise<ProxyResponse> => {
    const body = new PassThrough();
    bodies.push({ endpoint: req.endpoint.address, body });
    return { status: 200, headers: {}, body };
  };
  /** Ends the response body of the first request still open on `endpoint`. */
  const finish = (endpoint: string): void => {
    const i = bodies.findIndex((b) => b.endpoint === endpoint);
    const [held] = bodies.splice(i, 1);
    held?.body.resume();
    held?.body.end();
  };
  return { bodies, next, finish };
}

const attempt = (): AttemptState => ({ number: 1, avoid: undefined, endpoint: undefined });
const request = (signal = neverAborted(), headers: Record<string, string> = {}) => ({ attempt: attempt(), headers, signal, record: record() });
const tick = () => new Promise((r) => setImmediate(r));

describe('backend/pool-limits (balance with maxConnections and maxPendingRequests)', () => {
  it('counts a request in flight until its response body ends', async () => {
    const states = new EndpointStates();
    const up = heldUpstream();
    const svc = balance(backend(['a'], {}), { states, health: noHealth(), queues: new PendingQueues() }, up.next);
    await svc(request());
    await svc(request());
    expect(states.get('a').inflight).to.equal(2);
    up.finish('a');
    await tick();
    expect(states.get('a').inflight).to.equal(1);
  });

  it('waits for a free endpoint when all are full, and fails fast with WEFT_ERR_OVERFLOW past maxPendingRequests', async () => {
    const states = new EndpointStates();
    const queues = new PendingQueues();
    const up = heldUpstream();
    const svc = balance(backend(['a', 'b'], { maxConnections: 1, maxPendingRequests: 1 }), { states, health: noHealth(), queues }, up.next);
    await svc(request());
    await svc(request());
    expect(up.bodies.map((b) => b.endpoint).sort()).to.deep.equal(['a', 'b']);

    const waiting = svc(request());
    await tick();
    expect(queues.for(dest.key).length).to.equal(1);
    const overflow = await svc(request()).catch((e: unknown) => e);
    expect(overflow).to.be.instanceOf(OverflowError);
    expect((overflow as OverflowError).httpStatus).to.equal(503);
    expect((overflow as OverflowError).code).to.equal('WEFT_ERR_OVERFLOW');
    expect((overflow as Error).message)
      .to.contain('service "orders.default"')
      .and.contain('maxConnections (1)')
      .and.contain('maxPendingRequests (1)')
      .and.contain('ServicePolicy "orders"');

    up.finish('b');
    await waiting;
    expect(up.bodies.map((b) => b.endpoint).sort()).to.deep.equal(['a', 'b']);
    expect(queues.for(dest.key).length).to.equal(0);
  });

  it('fails at once with maxPendingRequests 0', async () => {
    const up = heldUpstream();
    const svc = balance(backend(['a'], { maxConnections: 1, maxPendingRequests: 0 }), { states: new EndpointStates(), health: noHealth(), queues: new PendingQueues() }, up.next);
    await svc(request());
    expect(await svc(request()).catch((e: unknown) => e)).to.be.instanceOf(OverflowError);
  });

  it('leaves the line when its deadline passes, with the deadline error, and records the queue phase', async () => {
    const queues = new PendingQueues();
    const up = heldUpstream();
    const svc = balance(backend(['a'], { maxConnections: 1 }), { states: new EndpointStates(), health: noHealth(), queues }, up.next);
    await svc(request());
    const controller = new AbortController();
    const req = request(controller.signal);
    const waiting = svc(req).catch((e: unknown) => e);
    await tick();
    expect(req.record.phase).to.equal('queue');
    controller.abort(new Error('deadline'));
    expect(((await waiting) as Error).message).to.equal('deadline');
    expect(queues.for(dest.key).length).to.equal(0);
  });

  it('keeps in-flight counts across a config update: a balancer built for the new version sees them', async () => {
    const states = new EndpointStates();
    const queues = new PendingQueues();
    const up = heldUpstream();
    const v1 = balance(backend(['a', 'b'], { maxConnections: 1 }, { name: 'least-request' }), { states, health: noHealth(), queues }, up.next);
    await v1(request());
    const busy = up.bodies[0]?.endpoint as string;
    const v2 = balance(backend(['a', 'b'], { maxConnections: 1 }, { name: 'least-request' }), { states, health: noHealth(), queues }, up.next);
    await v2(request());
    expect(up.bodies[1]?.endpoint).to.not.equal(busy);
    expect(states.get('a').inflight + states.get('b').inflight).to.equal(2);
  });
});
