import type * as grpc from '@grpc/grpc-js';

/**
 * Stops a test collector's gRPC server: exporters get a moment to finish a call in flight, then
 * whatever remains is cut, so a stuck client never holds a test's teardown.
 */
export function closeGrpcServer(server: grpc.Server, graceMs = 1_000): Promise<void> {
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => server.forceShutdown(), graceMs);
    server.tryShutdown(() => {
      clearTimeout(force);
      resolve();
    });
  });
}
