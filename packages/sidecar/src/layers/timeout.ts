import { performance } from 'node:perf_hooks';
import type { Phase } from '../telemetry/record';
import { DeadlineExceededError, UpstreamTimeoutError } from './errors';
import { discardBody, type ProxyResponse, type Service } from './service';
import { Cancel, type CancelSignal } from './cancel';

/** What the timeout layer reads from its target (a compiled rule). */
export interface TimeoutParams {
  readonly timeoutMs: number | undefined;
  readonly name: string;
  readonly destination: { readonly key: string };
}

/** What it reads from a request. */
export interface TimeoutRequest {
  readonly signal: CancelSignal;
  readonly record: { phase: Phase };
  /**
   * The caller's own deadline (`performance.now()` ms) when its protocol carries one (gRPC's
   * `grpc-timeout`). Below this layer it is the effective deadline, which clients send upstream.
   */
  readonly deadlineAt?: number | undefined;
}

/**
 * The route's overall timeout: one deadline per request, started once, covering everything up to
 * the response headers (fault delay, every attempt, every backoff). When the caller brings its own
 * deadline (gRPC's `grpc-timeout`), the earlier of the two is the one deadline, and it is passed
 * down as `deadlineAt` so that clients can send what remains of it upstream. After the headers the
 * body streams without it: a long download is not cut off. When it fires, the layers below are
 * aborted through the signal and the error names the phase the time ran out in.
 */
export function timeout<R extends TimeoutRequest>(params: TimeoutParams, next: Service<R>): Service<R> {
  const routeMs = params.timeoutMs;
  return (req) => {
    const callerMs = req.deadlineAt === undefined ? undefined : req.deadlineAt - performance.now();
    if (callerMs === undefined && routeMs === undefined) return next(req);
    const callerFirst = callerMs !== undefined && (routeMs === undefined || callerMs < routeMs);
    const ms = Math.max(0, callerFirst ? (callerMs as number) : (routeMs as number));
    const deadlineAt = performance.now() + ms;
    const expired = callerFirst
      ? () => new DeadlineExceededError(params.destination.key, ms, req.record.phase)
      : () => new UpstreamTimeoutError(params.destination.key, params.name, ms, req.record.phase);
    return withDeadline(ms, req.signal, (signal) => next({ ...req, signal, deadlineAt }), expired);
  };
}

/**
 * Runs `work` with a signal that aborts when `parent` does or when `ms` pass before it resolves.
 * The signal keeps following `parent` afterwards, so that a client that goes away still stops
 * the response body. A response that arrives after the deadline is discarded.
 */
export function withDeadline(
  ms: number,
  parent: CancelSignal,
  work: (signal: CancelSignal) => Promise<ProxyResponse>,
  expired: () => Error,
): Promise<ProxyResponse> {
  if (parent.aborted) return Promise.reject(parent.reason as Error);
  const controller = new Cancel();
  parent.addEventListener('abort', () => controller.abort(parent.reason), { once: true });
  return new Promise<ProxyResponse>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      const err = expired();
      controller.abort(err);
      reject(err);
    }, ms);
    work(controller.signal).then(
      (res) => {
        clearTimeout(timer);
        if (settled) discardBody(res.body);
        else {
          settled = true;
          resolve(res);
        }
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
