import type * as grpc from '@grpc/grpc-js';
import type { TapRequest, TapResponse } from '@weft/api';
import { ControlPlaneError } from '../errors';
import type { ObserveHub } from '../discovery/observe-hub';

const MAX_TAP_MS = 3_600_000;
const MAX_RPS = 10_000;
const DIRECTIONS = new Set(['', 'inbound', 'outbound']);

/**
 * Admin.Tap: opens a tap on every proxy that can take one and relays their events as they come,
 * until the duration is over, the caller cancels, or every proxy ended it. The proxies filter and
 * rate-limit; this process only relays (adding which proxy saw each request).
 */
export function tap(hub: ObserveHub, call: grpc.ServerWritableStream<TapRequest, TapResponse>): void {
  const req = call.request;
  const durationMs = Number(req.durationMs) || MAX_TAP_MS;
  const maxRps = Number(req.maxRps) || 0;
  const filter = req.filter ?? { from: '', to: '', pathPrefix: '', method: '', direction: '' };
  if (durationMs < 0 || durationMs > MAX_TAP_MS) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `durationMs must be between 0 (until cancelled, at most an hour) and ${MAX_TAP_MS}`);
  if (maxRps < 0 || maxRps > MAX_RPS) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `maxRps must be between 0 (the default, 100 per proxy) and ${MAX_RPS}`);
  if (!DIRECTIONS.has(filter.direction ?? '')) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `filter.direction must be inbound, outbound or empty (both), not ${JSON.stringify(filter.direction)}`);

  let ended = false;
  const live = new Set<string>();
  const open = hub.openTap({ filter, maxRps, durationMs }, (proxyId, reply) => {
    if (ended) return;
    const events = (reply.tapEvents ?? []).map((e) => ({ ...e, proxyId }));
    const dropped = Number(reply.tapDropped ?? 0);
    if (events.length > 0 || dropped > 0) call.write({ events, proxies: [], dropped } satisfies TapResponse);
    if (reply.tapEnded || reply.error) {
      live.delete(proxyId);
      if (live.size === 0) finish();
    }
  });
  for (const p of open.proxies) if (p.state === 'ok') live.add(p.proxyId);
  call.write({ events: [], proxies: open.proxies, dropped: 0 } satisfies TapResponse);
  const timer = setTimeout(() => finish(), durationMs + 1_000);
  function finish(): void {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    open.stop();
    call.end();
  }
  call.on('cancelled', finish);
  call.on('close', finish);
  if (live.size === 0) finish();
}
