import type { TelemetryEvents } from './events';
import type { Registry } from '@weft/api';

/**
 * Metrics of raw TCP connections (`--tcp-forward` and `--app-protocol tcp`), which have no
 * requests: connections opened and closed (open now = opened - closed, as Linkerd's
 * tcp_open_total / tcp_close_total) and bytes each way, by direction, source and destination.
 */
export function countTcp(registry: Registry, events: Pick<TelemetryEvents, 'on'>): void {
  const opened = registry.counter('weft_tcp_connections_opened_total', 'TCP connections forwarded, by direction, source and destination.');
  const closed = registry.counter(
    'weft_tcp_connections_closed_total',
    "TCP connections that ended, by direction, source, destination and error code ('' for a clean close).",
  );
  const received = registry.counter('weft_tcp_received_bytes_total', 'Bytes from the side that opened a TCP connection (the app outbound, the peer inbound).');
  const sent = registry.counter('weft_tcp_sent_bytes_total', 'Bytes back to the side that opened a TCP connection.');
  events.on('weft:tcp-open', ({ direction, source, destination }) => opened.inc({ direction, source, destination }));
  events.on('weft:tcp-end', ({ direction, source, destination, receivedBytes, sentBytes, errorCode }) => {
    const labels = { direction, source, destination };
    closed.inc({ ...labels, error: errorCode });
    received.inc(labels, receivedBytes);
    sent.inc(labels, sentBytes);
  });
}
