import type { Writable } from 'node:stream';
import { countProcess, createLogger, Gauge, Registry, type Counter, type EffectiveMeshConfig, type Logger } from '@weft/api';
import type { SelfInfo } from '../self';
import { writeAccessLog } from './access-log';
import { TelemetryEvents } from './events';
import type { RequestRecord } from './record';
import { RequestMetrics } from './request-metrics';
import { countTcp } from './tcp-metrics';
import type { OtlpClientSettings } from './otlp-client';
import { otlpExporterFor } from './otlp-exporter';
import { Tracing, type ExporterFactory } from './trace';

/** What tests and embedders may replace; the sidecar itself uses the defaults. */
export interface TelemetryOptions {
  /** Where access log lines go. Default: process.stdout. */
  readonly accessLog?: Writable;
  readonly log?: Logger;
  /** Builds the span exporter for an OTLP endpoint. Default: OTLP/gRPC, with `otlpClient`. */
  readonly exporterFor?: ExporterFactory;
  /** TLS and headers for the OTLP/gRPC exporter, from files on this host (`--otlp-*-file`). */
  readonly otlpClient?: OtlpClientSettings | undefined;
}

/**
 * CONTRACT: the sidecar's telemetry. Owns the Prometheus registry rendered on the admin port and
 * the OpenTelemetry tracer whose exporter follows MeshConfig.tracing. The data path reports to it
 * through `events` and starts spans through `tracing`; it never touches metrics directly.
 */
export class Telemetry {
  /** Named events the data path emits and this object subscribes to. */
  readonly events: TelemetryEvents;
  /** Spans for the trace layers; reconfigured by `configure`. */
  readonly tracing: Tracing;
  /** The sidecar's logger: listeners log through children of it, so whoever made it sets the level. */
  readonly log: Logger;
  readonly #registry = new Registry();
  readonly #requests: RequestMetrics;
  readonly #retries: Counter;
  readonly #retriesSkipped: Counter;
  readonly #ejections: Counter;
  readonly #endpointsDown: Counter;
  readonly #endpointsUp: Counter;
  readonly #endpointsOut: Gauge;
  /** Endpoints passive health holds out now, per destination (the gauge's values). */
  readonly #out = new Map<string, Set<string>>();
  readonly #rateLimited: Counter;
  readonly #denied: Counter;
  readonly #accessLogOut: Writable;
  #accessLog = false;

  constructor(
    readonly self: SelfInfo,
    options: TelemetryOptions = {},
  ) {
    const log = options.log ?? createLogger('telemetry', { proxyId: self.proxyId });
    this.log = log;
    this.events = new TelemetryEvents(log);
    const spansDropped = this.#registry.counter(
      'weft_spans_dropped_total',
      'Recorded spans never delivered, by reason (queue_full: tracing.maxQueueSize spans were already waiting; export_failed: the collector did not take them).',
    );
    this.tracing = new Tracing(
      { 'service.name': self.service, 'service.namespace': self.namespace, 'service.instance.id': self.proxyId },
      log,
      options.exporterFor ?? otlpExporterFor(options.otlpClient),
      (spans, reason) => spansDropped.inc({ reason }, spans),
    );
    this.#accessLogOut = options.accessLog ?? process.stdout;
    this.#requests = new RequestMetrics(this.#registry);
    this.#retries = this.#registry.counter(
      'weft_retries_total',
      'Retry attempts made by the outbound side, by destination, reason (connect-failure, app-unreachable, status 503, ...) and policy (default or route).',
    );
    this.#denied = this.#registry.counter('weft_requests_denied_total', 'Inbound requests refused by AuthorizationPolicy, by source, destination, deciding policy and cause.');
    this.events.on('weft:request-end', ({ record, durationMs }) => this.#onRequestEnd(record, durationMs));
    countTcp(this.#registry, this.events);
    countProcess(this.#registry);
    this.events.on('weft:retry', ({ destination, reason, byDefault }) => this.#retries.inc({ destination, reason, policy: byDefault ? 'default' : 'route' }));
    this.#retriesSkipped = this.#registry.counter('weft_retries_skipped_total', 'Failed attempts that retryOn covers but were not retried, by destination and reason (budget, non-idempotent).');
    this.#ejections = this.#registry.counter('weft_ejections_total', 'Endpoints ejected by outlier detection, by destination.');
    this.#rateLimited = this.#registry.counter('weft_rate_limited_total', 'Inbound requests refused by the local rate limit (429), by destination and source.');
    this.events.on('weft:retry-skipped', ({ destination, reason }) => this.#retriesSkipped.inc({ destination, reason }));
    this.events.on('weft:endpoint-ejected', (e) => {
      this.#ejections.inc({ destination: e.destination });
      log.info('endpoint ejected by outlier detection', { ...e });
    });
    this.events.on('weft:endpoint-returned', (e) => log.info('ejected endpoint returned to balancing', { ...e }));
    this.#endpointsDown = this.#registry.counter('weft_endpoints_down_total', 'Endpoints passive health took out of balancing after a failed connection, by destination and reason (error code).');
    this.#endpointsUp = this.#registry.counter('weft_endpoints_up_total', 'Endpoints passive health let back in, by destination and how (probe, request, removed).');
    this.#endpointsOut = this.#registry.gauge('weft_endpoints_out', 'Endpoints passive health holds out of balancing now, by destination.');
    this.events.on('weft:endpoint-down', (e) => {
      this.#endpointsDown.inc({ destination: e.destination, reason: e.reason });
      this.#countOut(e.destination, e.endpoint, true);
      log.info('endpoint taken out of balancing: its connection failed', { ...e });
    });
    this.events.on('weft:endpoint-up', (e) => {
      this.#endpointsUp.inc({ destination: e.destination, by: e.by });
      this.#countOut(e.destination, e.endpoint, false);
      log.info('endpoint back in balancing', { ...e });
    });
    const faults = this.#registry.counter('weft_faults_injected_total', "Requests a Route's fault injection delayed or answered itself, by destination, route and fault (delay, abort).");
    this.events.on('weft:fault-injected', ({ destination, route, fault }) => faults.inc({ destination, route, fault }));
    this.events.on('weft:rate-limited', ({ destination, source }) => this.#rateLimited.inc({ destination, source }));
    const h2Closed = this.#registry.counter('weft_h2_sessions_closed_total', "Clients' HTTP/2 sessions the sidecar closed (GOAWAY ENHANCE_YOUR_CALM), by direction and reason (rapid-reset).");
    this.events.on('weft:h2-session-closed', (e) => {
      h2Closed.inc({ direction: e.direction, reason: e.reason });
      log.warn('closed an HTTP/2 session that reset streams abusively (rapid reset)', { ...e });
    });
    const timeouts = this.#registry.counter(
      'weft_downstream_timeouts_total',
      'Clients cut off by a listener for being too slow, by direction and reason (headers: request headers too slow; body_idle: the request body stopped arriving).',
    );
    this.events.on('weft:downstream-timeout', ({ direction, reason }) => timeouts.inc({ direction, reason }));
    this.events.on('weft:authz-denied', ({ source, destination, policy, cause }) => this.#denied.inc({ source, destination, policy, cause }));
  }

  /** Called with every new config: switches the OTLP endpoint and sampling when they change. */
  configure(mesh: EffectiveMeshConfig): void {
    this.#accessLog = mesh.accessLog;
    this.tracing.configure(mesh.tracing);
  }

  /** Sets a gauge by name (created on first use); for lifecycle facts such as certificate expiry. */
  setGauge(name: string, help: string, value: number, labels: Record<string, string> = {}): void {
    this.#registry.gauge(name, help).set(labels, value);
  }

  /** Sets a counter kept elsewhere (a count the control client keeps) by name; created on first use. */
  setTotal(name: string, help: string, value: number): void {
    this.#registry.counter(name, help).bind({}).value = value;
  }

  /** Removes one series of a gauge set with setGauge (e.g. the previous version's `_info` series). */
  removeGauge(name: string, labels: Record<string, string> = {}): void {
    const gauge = this.#registry.find(name);
    if (gauge instanceof Gauge) gauge.remove(labels);
  }

  /** Prometheus text exposition of every metric. */
  renderMetrics(): string {
    return this.#registry.render();
  }

  /** Flushes spans still buffered; never throws. */
  async shutdown(): Promise<void> {
    await this.tracing.shutdown();
  }

  #countOut(destination: string, endpoint: string, out: boolean): void {
    let set = this.#out.get(destination);
    if (!set) this.#out.set(destination, (set = new Set()));
    if (out) set.add(endpoint);
    else set.delete(endpoint);
    this.#endpointsOut.set({ destination }, set.size);
  }

  #onRequestEnd(record: RequestRecord, durationMs: number): void {
    this.#requests.count(record, durationMs);
    if (this.#accessLog) writeAccessLog(this.#accessLogOut, record, durationMs);
  }
}
