import { grpcEchoClient, type GrpcEchoClient, startGrpcEcho, type GrpcEchoServer } from '@weft/harness';
import type { Telemetry } from '../../src/telemetry/telemetry';
import { resource, TestMesh, type Caller } from '../scenarios/mesh-fixture';

/** The gRPC echo app behind its sidecar ('greeter', h2c), a caller's sidecar, and a grpc-js client through it. */
export interface GrpcMesh {
  readonly mesh: TestMesh;
  readonly caller: Caller;
  readonly server: GrpcEchoServer;
  /** The greeter sidecar's telemetry (its inbound metrics). */
  readonly serverTelemetry: Telemetry;
  readonly client: GrpcEchoClient;
  close(): Promise<void>;
}

/** Two sidecars between a grpc-js client and the echo app, with a Route for greeter whose timeout is `routeTimeout`. */
export async function startGrpcMesh(routeTimeout: string): Promise<GrpcMesh> {
  const mesh = new TestMesh();
  const server = await startGrpcEcho();
  try {
    const serverTelemetry = (await mesh.addSidecar('greeter', server.port, { appProtocol: 'h2c' })).telemetry;
    mesh.setResources([resource('Route', 'greeter', { service: 'greeter', rules: [{ timeout: routeTimeout }] })]);
    const caller = await mesh.addCaller('frontend');
    mesh.push();
    const client = grpcEchoClient(caller.outbound.port, 'greeter');
    return {
      mesh, caller, server, serverTelemetry, client,
      async close() {
        client.close();
        await mesh.close();
        await server.close();
      },
    };
  } catch (err) {
    await mesh.close();
    await server.close();
    throw err;
  }
}
