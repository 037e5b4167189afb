/**
 * Whether a finished request counts as a success in `weftctl stat` and `top`, as Linkerd counts
 * it: a response came back, it is not a 5xx, and its gRPC status, if it has one, is OK.
 */
export function isSuccessfulResponse(status: number, grpcStatus: string): boolean {
  return status > 0 && status < 500 && (grpcStatus === '' || grpcStatus === '0');
}
