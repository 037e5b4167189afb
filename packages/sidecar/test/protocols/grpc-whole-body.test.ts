import * as grpc from '@grpc/grpc-js';
import { expect } from 'chai';
import { type EchoMsg, type GrpcEchoClient, type GrpcEchoLog, grpcEchoUnary, waitFor } from '@weft/harness';
import { WHOLE_BODY_MAX_BYTES } from '../../src/http/h2-whole-body';
import type { Telemetry } from '../../src/telemetry/telemetry';
import type { Caller } from '../scenarios/mesh-fixture';
import { startGrpcMesh, type GrpcMesh } from './grpc-mesh';

/**
 * A unary gRPC request travels through both sidecars as one Buffer (it ended in the read that
 * brought its HEADERS; docs/performance.md, "Session 10: gRPC"). What must not change: bodies and
 * trailers intact, the exchange recorded as complete, streaming calls still streaming, messages
 * bigger than the bound, deadlines and cancellation.
 */
describe('protocols: gRPC unary requests as whole buffers through two sidecars', function () {
  this.timeout(20_000);
  let grpcMesh: GrpcMesh;
  let caller: Caller;
  let serverTelemetry: Telemetry;
  let client: GrpcEchoClient;
  let log: GrpcEchoLog;

  before(async () => {
    grpcMesh = await startGrpcMesh('5s');
    ({ caller, serverTelemetry, client } = grpcMesh);
    log = grpcMesh.server.log;
  });
  after(async () => {
    await grpcMesh?.close();
  });

  it('carries body and trailers intact, and both sidecars record the call as complete with grpc_status 0', async () => {
    const { res, trailers } = await grpcEchoUnary(client, 'counted');
    expect(res.text).to.equal('echo:counted');
    expect(trailers.get('x-echo-trailer')).to.deep.equal(['done:counted']);
    // An answer written whole must count as written, not as a client that left (499).
    for (const [direction, telemetry] of [['outbound', caller.telemetry] as const, ['inbound', serverTelemetry] as const]) {
      const metrics = await waitFor(`${direction} metrics`, () => {
        const text = telemetry.renderMetrics();
        return /weft_requests_total\{[^}]*code="200",grpc_status="0"\}/.test(text) ? text : undefined;
      });
      expect(metrics, direction).to.match(new RegExp(`weft_requests_total\\{direction="${direction}",[^}]*code="200",grpc_status="0"\\} \\d+`));
      expect(metrics, direction).not.to.match(/code="499"/);
    }
  });

  it('carries a unary message bigger than the bound both ways (it streams instead)', async () => {
    const text = 'x'.repeat(WHOLE_BODY_MAX_BYTES * 3);
    const { res, trailers } = await grpcEchoUnary(client, text);
    expect(res.text).to.equal(`echo:${text}`);
    expect(trailers.get('x-echo-trailer')).to.deep.equal([`done:${text.slice(0, 64)}`]);
  });

  it('still streams a bidi call: the first answer arrives before the client half-closes', async () => {
    const call = client.bidi();
    try {
      const first = await new Promise<EchoMsg>((resolve, reject) => {
        call.once('data', resolve);
        call.once('error', reject);
        call.write({ text: 'first' });
      });
      expect(first.text).to.equal('pong:first');
    } finally {
      call.end();
    }
    await new Promise((resolve) => call.on('end', resolve).resume());
  });

  it("passes the caller's deadline on and ends the call with DEADLINE_EXCEEDED", async () => {
    const err = await new Promise<grpc.ServiceError | null>((resolve) => client.slow({ text: 'x' }, new grpc.Metadata(), { deadline: Date.now() + 150 }, (e) => resolve(e)));
    expect(err?.code).to.equal(grpc.status.DEADLINE_EXCEEDED);
    expect(log.deadlinesMs.at(-1)).to.be.within(0, 160);
  });

  it('cancels the call at the app when the client cancels a whole unary request', async () => {
    const before = log.cancelled;
    const deadlinesSeen = log.deadlinesMs.length;
    const call = client.slow({ text: 'x' }, new grpc.Metadata(), {}, () => undefined);
    await waitFor('the app to receive the call', () => log.deadlinesMs.length > deadlinesSeen);
    call.cancel();
    await waitFor('the app to see the cancellation (RST_STREAM through both sidecars)', () => log.cancelled > before, 3_000);
  });
});
