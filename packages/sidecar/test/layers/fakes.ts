import { Readable } from 'node:stream';
import type { ProxyResponse } from '../../src/layers/service';
import { PassiveHealth } from '../../src/balance/passive-health';
import { TelemetryEvents, type WeftEvents } from '../../src/telemetry/events';
import { RequestRecord } from '../../src/telemetry/record';

/** A response with a small body, as a fake `next` would return it. */
export function response(status: number, text = ''): ProxyResponse {
  return { status, headers: { 'content-type': 'text/plain' }, body: Readable.from([Buffer.from(text)], { objectMode: false }) };
}

export function record(): RequestRecord {
  return new RequestRecord('outbound', 'GET');
}

/** A signal that never aborts, for layers that only forward it. */
export function neverAborted(): AbortSignal {
  return new AbortController().signal;
}

/** A real event bus that records the retries a layer announces. */
export function retryRecorder(): { bus: TelemetryEvents; retries: WeftEvents['weft:retry'][] } {
  const bus = new TelemetryEvents();
  const retries: WeftEvents['weft:retry'][] = [];
  bus.on('weft:retry', (e) => retries.push(e));
  return { bus, retries };
}

/** Passive health on an event bus nobody listens to, with timers that never fire (probes never run). */
export function noHealth(): PassiveHealth {
  return new PassiveHealth({ events: new TelemetryEvents(), after: () => undefined });
}
