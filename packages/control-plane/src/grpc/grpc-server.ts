import * as grpc from '@grpc/grpc-js';
import { CONTROL_PLANE_MAX_MESSAGE_BYTES, loadWeftServices } from '@weft/api';
import { encodeSnapshotsOnce, type Serialize } from '../discovery/response-encoding';
import type { MemoryCertificateProvider } from '../tls/certificate-provider';
import { formatHostPort } from '@weft/api';

export interface ServiceImplementations {
  readonly identity: grpc.UntypedServiceImplementation;
  readonly discovery: grpc.UntypedServiceImplementation;
  readonly admin: grpc.UntypedServiceImplementation;
}

/**
 * Keepalive so that a sidecar that vanished (host gone, cable pulled) is noticed within about
 * 15 s and its endpoint starts its grace period, instead of waiting for TCP to give up.
 */
const SERVER_OPTIONS: grpc.ServerOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  // grpc-js's default, stated here because weftctl checks applies against the same constant.
  'grpc.max_receive_message_length': CONTROL_PLANE_MAX_MESSAGE_BYTES,
};

/** Binds Identity, Discovery and Admin on one TLS port; returns the server and the bound port. */
export async function startGrpcServer(
  host: string,
  port: number,
  provider: MemoryCertificateProvider,
  services: ServiceImplementations,
): Promise<{ server: grpc.Server; port: number }> {
  const defs = loadWeftServices();
  const server = new grpc.Server(SERVER_OPTIONS);
  server.addService(defs.Identity.service, services.identity);
  server.addService(discoveryDefinition(defs.Discovery.service), services.discovery);
  server.addService(defs.Admin.service, services.admin);
  // Client certificates are requested and verified against the mesh CA, but not required:
  // first contact (Identity.Sign with a join token) has none. Handlers decide who may do what.
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(formatHostPort({ host, port }), credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  return { server, port: bound };
}

/** Discovery's definition with a response serializer that encodes each shared snapshot once. */
function discoveryDefinition(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const stream = service['Stream'];
  if (!stream) throw new Error('discovery.proto has no Discovery.Stream');
  return { ...service, Stream: { ...stream, responseSerialize: encodeSnapshotsOnce(stream.responseSerialize as Serialize) } };
}

/** Waits for calls in flight up to `graceMs`, then cancels whatever is left. */
export async function stopGrpcServer(server: grpc.Server, graceMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    timer.unref();
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
