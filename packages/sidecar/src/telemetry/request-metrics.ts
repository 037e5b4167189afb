import type { Counter, CounterSeries, Histogram, HistogramSeries, Registry } from '@weft/api';
import type { Direction, RequestRecord } from './record';

/** The series of one destination on one side: its duration and its counters by source, route and code. */
interface DestinationSeries {
  readonly duration: HistogramSeries;
  /** source -> route -> HTTP status -> series, for requests without a gRPC status. */
  readonly bySource: Map<string, Map<string, Map<number, CounterSeries>>>;
  /** grpc-status -> source -> route -> HTTP status -> series; made on the first gRPC request. */
  byGrpc: Map<string, Map<string, Map<string, Map<number, CounterSeries>>>> | undefined;
}

/**
 * `weft_requests_total` and `weft_request_duration_seconds`, counted per request without building
 * a label set: each series is bound on the request that first needs it and found again through
 * nested maps keyed by the record's own strings (which come from the config and the peer
 * identity, so lookups hash nothing new). The label sets, and so the exposition, are the ones
 * `inc` and `observe` with labels would make.
 */
export class RequestMetrics {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #sides: Record<Direction, Map<string, DestinationSeries>> = { inbound: new Map(), outbound: new Map() };

  constructor(registry: Registry) {
    this.#requests = registry.counter('weft_requests_total', 'Requests handled by the sidecar, by direction, source, destination, route and status code.');
    this.#duration = registry.histogram(
      'weft_request_duration_seconds',
      'Time from the first byte of a request to the last byte of its response, by direction and destination.',
    );
  }

  count(record: RequestRecord, durationMs: number): void {
    const destination = this.#destination(record.direction, record.destination);
    destination.duration.observe(durationMs / 1000);
    let bySource = destination.bySource;
    if (record.grpcStatus !== '') {
      destination.byGrpc ??= new Map();
      bySource = child(destination.byGrpc, record.grpcStatus);
    }
    const byStatus = child(child(bySource, record.source), record.route);
    let series = byStatus.get(record.status);
    if (series === undefined) {
      series = this.#requests.bind({
        direction: record.direction,
        source: record.source,
        destination: record.destination,
        route: record.route,
        code: String(record.status),
        // gRPC requests only: their failures are HTTP 200s, the gRPC status says what happened.
        ...(record.grpcStatus === '' ? {} : { grpc_status: record.grpcStatus }),
      });
      byStatus.set(record.status, series);
    }
    series.inc();
  }

  #destination(direction: Direction, destination: string): DestinationSeries {
    const side = this.#sides[direction];
    let series = side.get(destination);
    if (series === undefined) {
      series = { duration: this.#duration.bind({ direction, destination }), bySource: new Map(), byGrpc: undefined };
      side.set(destination, series);
    }
    return series;
  }
}

function child<K, IK, V>(map: Map<K, Map<IK, V>>, key: K): Map<IK, V> {
  let inner = map.get(key);
  if (inner === undefined) {
    inner = new Map();
    map.set(key, inner);
  }
  return inner;
}
