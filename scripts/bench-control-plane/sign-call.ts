/**
 * Identity.Sign as the simulated sidecars make it: the same bytes on the wire as the sidecar's
 * `callSign` (a TLS 1.3 connection of its own that trusts only the pinned root and checks the
 * control plane's SPIFFE ID, HTTP/2, one gRPC unary call with the real proto), without a grpc-js
 * channel around it. A grpc-js channel (resolver, subchannel, connectivity state machine, call
 * stack) cost the simulated sidecars about 5 ms of CPU per signature, twice the control plane's,
 * on the same two cores: the bench then measured its own clients. Real sidecars run on other
 * machines; here the client side should cost as little as the protocol allows. For the same
 * reason the TLS context (the pinned root) is built once per worker and shared by its simulated
 * sidecars: building one per connection cost another millisecond of the worker's CPU per call.
 * Each call still makes its own TCP connection and full TLS handshake, and verifies the control
 * plane's certificate and SPIFFE ID, as a joining sidecar does.
 */
import * as http2 from 'node:http2';
import * as tls from 'node:tls';
import { CONTROL_PLANE_SERVICE, controlPlaneSpiffeId, loadWeftService, type SignRequest, type SignResponse } from '@weft/api';
import { checkControlPlaneIdentity } from '@weft/pki/workload';

const SIGN_PATH = '/weft.v1alpha1.Identity/Sign';

interface Codec {
  readonly serialize: (req: SignRequest) => Buffer;
  readonly deserialize: (buf: Buffer) => SignResponse;
}

let codec: Codec | undefined;
const contexts = new Map<string, tls.SecureContext>();

function contextFor(rootPem: string): tls.SecureContext {
  let context = contexts.get(rootPem);
  if (!context) contexts.set(rootPem, (context = tls.createSecureContext({ ca: rootPem })));
  return context;
}

function signCodec(): Codec {
  if (codec) return codec;
  const method = loadWeftService('Identity').service['Sign'];
  if (!method) throw new Error('the Identity service has no Sign method');
  codec = { serialize: method.requestSerialize as Codec['serialize'], deserialize: method.responseDeserialize as Codec['deserialize'] };
  return codec;
}

/** One gRPC message: the 5-byte prefix (not compressed, length) and the protobuf bytes. */
export function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** The one message of a unary answer (a gRPC body is frames; a unary answer carries exactly one). */
export function readGrpcMessage(body: Buffer): Buffer {
  if (body.length < 5) throw new Error(`a gRPC answer of ${body.length} bytes has no message`);
  if (body[0] !== 0) throw new Error('a compressed gRPC answer (the control plane does not compress)');
  const length = body.readUInt32BE(1);
  if (body.length !== 5 + length) throw new Error(`a gRPC message of ${length} bytes in a ${body.length}-byte body`);
  return body.subarray(5);
}

/** grpc-message is percent-encoded on the wire. */
function grpcMessage(value: string | string[] | undefined): string {
  const text = String(value ?? '');
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Identity.Sign on a new TLS connection to `host:port`; rejects with the gRPC status and message on failure. */
export function signOverOwnConnection(host: string, port: number, trustDomain: string, rootPem: string, request: SignRequest, timeoutMs: number): Promise<SignResponse> {
  const { serialize, deserialize } = signCodec();
  return new Promise<SignResponse>((resolve, reject) => {
    const session = http2.connect(`https://${host}:${port}`, {
      createConnection: () =>
        tls.connect({
          host,
          port,
          // The sidecar's SNI (CONTROL_PLANE_SERVER_NAME): an IP address is not a valid server name.
          servername: CONTROL_PLANE_SERVICE,
          secureContext: contextFor(rootPem),
          ALPNProtocols: ['h2'],
          checkServerIdentity: checkControlPlaneIdentity(controlPlaneSpiffeId(trustDomain)),
        }),
    });
    const timer = setTimeout(() => finish(new Error(`Identity.Sign: no answer within ${timeoutMs} ms`)), timeoutMs);
    let settled = false;
    const finish = (err: Error | undefined, response?: SignResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.close();
      if (err) {
        session.destroy();
        reject(err);
      } else resolve(response as SignResponse);
    };
    session.on('error', (err) => finish(err));
    const stream = session.request({
      ':method': 'POST',
      ':path': SIGN_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    let message = '';
    stream.on('response', (headers) => {
      // A trailers-only answer (an error) carries its status with the headers.
      if (headers['grpc-status'] !== undefined) [status, message] = [String(headers['grpc-status']), grpcMessage(headers['grpc-message'])];
    });
    stream.on('trailers', (trailers) => {
      [status, message] = [String(trailers['grpc-status']), grpcMessage(trailers['grpc-message'])];
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (err) => finish(err));
    stream.on('end', () => {
      if (status !== '0') return finish(new Error(`Identity.Sign: gRPC status ${status ?? '(none)'}: ${message}`));
      try {
        finish(undefined, deserialize(readGrpcMessage(Buffer.concat(chunks))));
      } catch (err) {
        finish(err instanceof Error ? err : new Error(String(err)));
      }
    });
    stream.end(grpcFrame(serialize(request)));
  });
}
