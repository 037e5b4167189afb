import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { TcpConnectionLabels, TelemetryEvents } from '../telemetry/events';
import { asProxyError } from '../layers/errors';
import { splice } from './splice';

/** The code a TCP connection that broke off midway is counted under. */
export const TCP_RESET_CODE = 'WEFT_ERR_CONNECTION_RESET';

/**
 * Relays one TCP connection: opens the upstream side (`connect` may refuse with a ProxyError),
 * splices the two until both close, and reports it (`weft:tcp-open`, then `weft:tcp-end` with
 * bytes each way and the error code, '' for a clean close). Resolves with that code; never rejects.
 */
export async function relayTcp(
  client: Duplex,
  connect: () => Promise<Duplex>,
  labels: TcpConnectionLabels,
  events: Pick<TelemetryEvents, 'emit'>,
): Promise<string> {
  const startedAt = performance.now();
  events.emit('weft:tcp-open', labels);
  let upstream: Duplex;
  try {
    upstream = await connect();
  } catch (err) {
    client.destroy();
    const errorCode = asProxyError(err).code;
    events.emit('weft:tcp-end', { ...labels, receivedBytes: 0, sentBytes: 0, durationMs: performance.now() - startedAt, errorCode });
    return errorCode;
  }
  const result = await splice(client, upstream);
  const errorCode = result.error ? TCP_RESET_CODE : '';
  events.emit('weft:tcp-end', { ...labels, receivedBytes: result.aToB, sentBytes: result.bToA, durationMs: performance.now() - startedAt, errorCode });
  return errorCode;
}
