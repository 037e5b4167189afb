import { isSuccessfulResponse, LATENCY_BUCKET_COUNT, latencyBucketOf, trimLatencyBuckets, type Edge, type StatSummary, type TcpCounts, type TrafficCounts } from '@weft/api';
import type { TcpConnectionLabels } from '../events';
import type { Direction, RequestRecord } from '../record';
import { TimeRing } from './time-ring';

/** Requests of one (direction, destination, source, route) in one time bucket. */
interface Traffic {
  requests: number;
  successes: number;
  sumMs: number;
  readonly buckets: Uint32Array;
  /** The peer's SPIFFE ID (inbound: the caller's, outbound: the destination's); '' when unproven. */
  readonly peerIdentity: string;
}

interface Tcp {
  opened: number;
  closed: number;
  receivedBytes: number;
  sentBytes: number;
}

/** direction -> destination -> source -> route -> counts, keyed by the record's own strings. */
type TrafficTable = Record<Direction, Map<string, Map<string, Map<string, Traffic>>>>;

interface Bucket {
  readonly traffic: TrafficTable;
  /** `direction source destination` -> counts; TCP events are per connection, not per request. */
  readonly tcp: Map<string, Tcp & TcpConnectionLabels>;
}

const newBucket = (): Bucket => ({ traffic: { inbound: new Map(), outbound: new Map() }, tcp: new Map() });

/**
 * The compact per-proxy record behind `weftctl stat`, `top` and `edges`: counts and a latency
 * histogram per (direction, source, destination, route) in 10 s buckets over 10 minutes, TCP
 * connections, and who the peers were. Per request: four map lookups and three additions; a new
 * series costs one small object per bucket it appears in.
 */
export class TrafficSummary {
  readonly #ring: TimeRing<Bucket>;
  readonly #selfIdentity: string;
  readonly #now: () => number;
  /** TCP connections open now, by `direction source destination`. */
  readonly #open = new Map<string, number>();

  constructor(selfIdentity: string, now: () => number = Date.now) {
    this.#selfIdentity = selfIdentity;
    this.#now = now;
    this.#ring = new TimeRing(newBucket, now());
  }

  get spanMs(): number {
    return this.#ring.spanMs;
  }

  count(record: RequestRecord, durationMs: number): void {
    const table = this.#ring.at(this.#now()).traffic[record.direction];
    const bySource = child(table, record.destination);
    const byRoute = child(bySource, record.source);
    let t = byRoute.get(record.route);
    if (t === undefined) {
      t = { requests: 0, successes: 0, sumMs: 0, buckets: new Uint32Array(LATENCY_BUCKET_COUNT), peerIdentity: record.peerIdentity };
      byRoute.set(record.route, t);
    }
    t.requests++;
    if (isSuccessfulResponse(record.status, record.grpcStatus)) t.successes++;
    t.sumMs += durationMs;
    (t.buckets[latencyBucketOf(durationMs)] as number)++;
  }

  tcpOpened(labels: TcpConnectionLabels): void {
    const key = tcpKey(labels);
    this.#open.set(key, (this.#open.get(key) ?? 0) + 1);
    this.#tcp(labels, key).opened++;
  }

  tcpEnded(labels: TcpConnectionLabels, receivedBytes: number, sentBytes: number): void {
    const key = tcpKey(labels);
    const open = (this.#open.get(key) ?? 1) - 1;
    if (open > 0) this.#open.set(key, open);
    else this.#open.delete(key);
    const t = this.#tcp(labels, key);
    t.closed++;
    t.receivedBytes += receivedBytes;
    t.sentBytes += sentBytes;
  }

  /** Everything of the last `windowMs` (rounded up to whole buckets, at most 10 minutes), summed. */
  stat(windowMs: number): StatSummary {
    const { buckets, coveredMs } = this.#ring.window(windowMs, this.#now());
    const traffic = new Map<string, TrafficCounts & { raw: number[] }>();
    const tcp = new Map<string, TcpCounts>();
    for (const { value: bucket } of buckets) {
      forEachTraffic(bucket.traffic, (direction, destination, source, route, t) => {
        const key = `${direction}\n${source}\n${destination}\n${route}`;
        let sum = traffic.get(key);
        if (sum === undefined) {
          sum = { direction, source, destination, route, proxyId: '', requests: 0, successes: 0, latencyBuckets: [], latencySumMs: 0, windowMs: coveredMs, raw: new Array<number>(LATENCY_BUCKET_COUNT).fill(0) };
          traffic.set(key, sum);
        }
        sum.requests += t.requests;
        sum.successes += t.successes;
        sum.latencySumMs += t.sumMs;
        for (let i = 0; i < t.buckets.length; i++) sum.raw[i] = (sum.raw[i] as number) + (t.buckets[i] as number);
      });
      for (const [key, t] of bucket.tcp) {
        const sum = tcp.get(key) ?? { direction: t.direction, source: t.source, destination: t.destination, proxyId: '', open: this.#open.get(key) ?? 0, opened: 0, closed: 0, receivedBytes: 0, sentBytes: 0 };
        sum.opened += t.opened;
        sum.closed += t.closed;
        sum.receivedBytes += t.receivedBytes;
        sum.sentBytes += t.sentBytes;
        tcp.set(key, sum);
      }
    }
    // Connections open for longer than the window still count as open.
    for (const [key, open] of this.#open) {
      if (tcp.has(key)) continue;
      const [direction = '', source = '', destination = ''] = key.split('\n');
      tcp.set(key, { direction, source, destination, proxyId: '', open, opened: 0, closed: 0, receivedBytes: 0, sentBytes: 0 });
    }
    return {
      windowMs: coveredMs,
      traffic: [...traffic.values()].map(({ raw, ...counts }) => ({ ...counts, latencyBuckets: trimLatencyBuckets(raw) })),
      tcp: [...tcp.values()],
    };
  }

  /** Who talked to whom in the last 10 minutes, with identities and whether mTLS proved them. */
  edges(): Edge[] {
    const nowMs = this.#now();
    const { buckets } = this.#ring.window(this.#ring.spanMs, nowMs);
    const edges = new Map<string, Edge>();
    const self = this.#selfIdentity;
    const edgeOf = (direction: string, source: string, destination: string, peer: string, mtls: boolean): Edge => {
      const key = `${direction}\n${source}\n${destination}\n${peer}`;
      let edge = edges.get(key);
      if (edge === undefined) {
        const inbound = direction === 'inbound';
        edge = {
          direction, source, destination, mtls, lastSeenMs: 0, requests: 0, connections: 0, proxyId: '',
          sourceIdentity: inbound ? peer : self,
          destinationIdentity: inbound ? self : peer,
        };
        edges.set(key, edge);
      }
      return edge;
    };
    for (const { startMs, value: bucket } of buckets) {
      // Seen at the latest by the end of the bucket it is in (buckets are 10 s).
      const seenMs = Math.min(startMs + this.#ring.bucketMs, nowMs);
      forEachTraffic(bucket.traffic, (direction, destination, source, _route, t) => {
        const edge = edgeOf(direction, source, destination, t.peerIdentity, t.peerIdentity !== '');
        edge.requests += t.requests;
        edge.lastSeenMs = Math.max(edge.lastSeenMs, seenMs);
      });
      for (const t of bucket.tcp.values()) {
        // Inbound: a caller without a certificate is `unknown`; outbound: mesh destinations go over mTLS.
        const mtls = t.direction === 'inbound' ? t.source !== 'unknown' : t.destination !== 'passthrough';
        const edge = edgeOf(t.direction, t.source, t.destination, '', mtls);
        edge.connections += t.opened;
        edge.lastSeenMs = Math.max(edge.lastSeenMs, seenMs);
      }
    }
    return [...edges.values()];
  }

  #tcp(labels: TcpConnectionLabels, key: string): Tcp & TcpConnectionLabels {
    const tcp = this.#ring.at(this.#now()).tcp;
    let t = tcp.get(key);
    if (t === undefined) {
      t = { direction: labels.direction, source: labels.source, destination: labels.destination, opened: 0, closed: 0, receivedBytes: 0, sentBytes: 0 };
      tcp.set(key, t);
    }
    return t;
  }
}

const tcpKey = (l: TcpConnectionLabels): string => `${l.direction}\n${l.source}\n${l.destination}`;

function forEachTraffic(table: TrafficTable, visit: (direction: Direction, destination: string, source: string, route: string, t: Traffic) => void): void {
  for (const direction of ['inbound', 'outbound'] as const) {
    for (const [destination, bySource] of table[direction]) {
      for (const [source, byRoute] of bySource) for (const [route, t] of byRoute) visit(direction, destination, source, route, t);
    }
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
