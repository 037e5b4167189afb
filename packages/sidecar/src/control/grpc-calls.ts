import * as grpc from '@grpc/grpc-js';
import { connectFailure, loadWeftService, type DiscoveryRequest, type DiscoveryResponse, type SignRequest, type SignResponse } from '@weft/api';
import { ControlError, type ControlErrorCode } from './errors';

/**
 * Typed views of the two control-plane services the sidecar calls. proto-loader clients are
 * untyped; the casts are confined to this file.
 */
interface IdentityStub extends grpc.Client {
  Sign(request: SignRequest, options: grpc.CallOptions, callback: grpc.requestCallback<SignResponse>): grpc.ClientUnaryCall;
}

interface DiscoveryStub extends grpc.Client {
  Stream(options?: grpc.CallOptions): grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;
}

export type DiscoveryCall = grpc.ClientDuplexStream<DiscoveryRequest, DiscoveryResponse>;

/** One Identity.Sign call on a channel of its own, closed afterwards. */
export function callSign(target: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions, request: SignRequest, timeoutMs: number): Promise<SignResponse> {
  const client = new (loadWeftService('Identity'))(target, credentials, options) as unknown as IdentityStub;
  return new Promise<SignResponse>((resolve, reject) => {
    client.Sign(request, { deadline: Date.now() + timeoutMs }, (err, response) => {
      client.close();
      if (err) reject(fromGrpcError(err, 'Identity.Sign', target));
      else if (!response) reject(new ControlError('WEFT_ERR_BAD_ISSUED_CERTIFICATE', 'Identity.Sign returned no response'));
      else resolve(response);
    });
  });
}

/** Opens Discovery.Stream on a new channel; the caller closes `client` when the stream ends. */
export function openDiscoveryStream(target: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions): { client: grpc.Client; call: DiscoveryCall } {
  const client = new (loadWeftService('Discovery'))(target, credentials, options) as unknown as DiscoveryStub;
  return { client, call: client.Stream() };
}

/** Statuses after which the same request may succeed later. */
const TRANSIENT = new Set<grpc.status>([
  grpc.status.UNAVAILABLE,
  grpc.status.DEADLINE_EXCEEDED,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.ABORTED,
  grpc.status.INTERNAL,
  grpc.status.UNKNOWN,
  grpc.status.CANCELLED,
]);

function isServiceError(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as Partial<grpc.ServiceError>).code === 'number';
}

/**
 * Turns a gRPC failure into a ControlError that keeps the status name and the control plane's
 * stable code (trailer `weft-error-code`) alongside its message.
 */
export function fromGrpcError(err: unknown, method: string, target: string, refusedCode: ControlErrorCode = 'WEFT_ERR_SIGN_REFUSED'): ControlError {
  if (!isServiceError(err)) {
    return new ControlError('WEFT_ERR_CONTROL_PLANE_UNAVAILABLE', `${method} to ${target} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
  const grpcStatus = grpc.status[err.code] ?? String(err.code);
  const serverCode = err.metadata?.get('weft-error-code')[0];
  const details = err.details || err.message;
  const transient = TRANSIENT.has(err.code);
  const failed = err.code === grpc.status.UNAVAILABLE ? connectFailure(details) : undefined;
  const message = failed
    ? `cannot reach the control plane at ${target}: ${failed}. ${failed.startsWith('TLS') ? 'Is --control-plane the address of the control plane that created the join token?' : 'Is weft-control-plane running, and is --control-plane right?'}`
    : transient
      ? `cannot reach the control plane at ${target} (${method}: ${grpcStatus}: ${details})`
      : `the control plane at ${target} refused ${method}: ${grpcStatus}: ${details}`;
  return new ControlError(transient ? 'WEFT_ERR_CONTROL_PLANE_UNAVAILABLE' : refusedCode, message, {
    grpcStatus,
    ...(typeof serverCode === 'string' ? { serverCode } : {}),
  });
}
