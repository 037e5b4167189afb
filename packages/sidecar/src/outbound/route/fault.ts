import { Readable } from 'node:stream';
import { HEADERS } from '@weft/api';
import type { CompiledFault } from '../../config/types';
import type { ProxyResponse, Service } from '../../layers/service';
import { sleep } from '../../layers/sleep';
import type { Phase } from '../../telemetry/record';
import type { CancelSignal } from '../../layers/cancel';
import type { TelemetryEvents } from '../../telemetry/events';
import type { SpanAttributes } from '../../telemetry/trace';

export interface FaultParams {
  readonly fault: CompiledFault | undefined;
  readonly name: string;
  readonly destination: { readonly key: string };
}

/** Where an injected fault is reported (`weft_faults_injected_total`). */
export interface FaultEnv {
  readonly events: Pick<TelemetryEvents, 'emit'>;
}

export interface FaultRequest {
  readonly signal: CancelSignal;
  readonly record: { phase: Phase };
  /** The CLIENT span: a recorded one says which fault was injected (`weft.fault`). */
  readonly span?: { readonly recording: boolean; setAttributes(attributes: SpanAttributes): void } | undefined;
}

/**
 * Fault injection for chaos drills: delays a share of requests (inside the route timeout, so a
 * delay can provoke a 504) and answers a share of them itself without calling the destination.
 */
export function fault<R extends FaultRequest>(params: FaultParams, env: FaultEnv, next: Service<R>, random: () => number = Math.random): Service<R> {
  const f = params.fault;
  if (!f) return next;
  const delayed = { destination: params.destination.key, route: params.name, fault: 'delay' } as const;
  const aborted = { destination: params.destination.key, route: params.name, fault: 'abort' } as const;
  return async (req) => {
    if (f.delay && random() * 100 < f.delay.percent) {
      req.record.phase = 'fault delay';
      env.events.emit('weft:fault-injected', delayed);
      if (req.span?.recording) req.span.setAttributes({ 'weft.fault': 'delay' });
      await sleep(f.delay.ms, req.signal);
    }
    if (f.abort && random() * 100 < f.abort.percent) {
      env.events.emit('weft:fault-injected', aborted);
      if (req.span?.recording) req.span.setAttributes({ 'weft.fault': 'abort' });
      return abortResponse(f.abort.status, params.name);
    }
    return next(req);
  };
}

function abortResponse(status: number, route: string): ProxyResponse {
  const text = `fault injected by route ${route}: answered ${status} without calling the service\n`;
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) };
  if (status >= 400) headers[HEADERS.error] = 'WEFT_ERR_FAULT_INJECTED';
  return { status, headers, body: Readable.from([Buffer.from(text)], { objectMode: false }) };
}
