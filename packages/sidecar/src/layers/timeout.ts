import { performance } from 'node:perf_hooks';
import type { Phase } from '../telemetry/record';
import { deadlines, type DeadlineEntry, type DeadlineList } from './deadlines';
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
  const key = params.destination.key;
  // Per target, not per request: the error is made only when a deadline fires.
  const routeExpired = (req: R, ms: number): Error => new UpstreamTimeoutError(key, params.name, ms, req.record.phase);
  const callerExpired = (req: R, ms: number): Error => new DeadlineExceededError(key, ms, req.record.phase);
  return (req) => {
    const callerMs = req.deadlineAt === undefined ? undefined : req.deadlineAt - performance.now();
    if (callerMs === undefined && routeMs === undefined) return next(req);
    const callerFirst = callerMs !== undefined && (routeMs === undefined || callerMs < routeMs);
    const ms = Math.max(0, callerFirst ? (callerMs as number) : (routeMs as number));
    if (req.signal.aborted) return Promise.reject(req.signal.reason as Error);
    const deadline = new HeadersDeadline(req.signal, ms, callerFirst ? callerExpired : routeExpired, req);
    return deadline.start(next, { ...req, signal: deadline, deadlineAt: deadline.at });
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
  const deadline = new HeadersDeadline(parent, ms, callExpired, expired);
  return deadline.start(work, deadline);
}

const callExpired = (expired: () => Error): Error => expired();

/**
 * One deadline up to the response headers. It is at once the signal the layers below get, the
 * entry in the process's deadline lists (one timer for all, see deadlines.ts) and what settles
 * the caller's promise: a request pays for this object, its promise and four small callbacks,
 * where a timer of its own cost a Node `Timeout`, its callback, and the timer list's bookkeeping
 * when a duration's list empties and fills again (at a low rate, on every request).
 */
class HeadersDeadline<C> extends Cancel implements DeadlineEntry {
  readonly at: number;
  readonly promise: Promise<ProxyResponse>;
  deadlinePrev: DeadlineEntry | undefined = undefined;
  deadlineNext: DeadlineEntry | undefined = undefined;
  deadlineList: DeadlineList | undefined = undefined;
  readonly #parent: CancelSignal;
  readonly #ms: number;
  readonly #expired: (context: C, ms: number) => Error;
  readonly #context: C;
  #settled = false;
  #resolve!: (res: ProxyResponse) => void;
  #reject!: (err: Error) => void;

  constructor(parent: CancelSignal, ms: number, expired: (context: C, ms: number) => Error, context: C) {
    super();
    this.#parent = parent;
    this.#ms = ms;
    this.#expired = expired;
    this.#context = context;
    this.at = performance.now() + ms;
    this.promise = new Promise<ProxyResponse>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    parent.addEventListener('abort', this.#followParent, { once: true });
    deadlines.add(this, ms);
  }

  /** Runs the layers below with `req` (which carries this signal); settles with their answer or the deadline. */
  start<Q>(next: (req: Q) => Promise<ProxyResponse>, req: Q): Promise<ProxyResponse> {
    try {
      next(req).then(this.#onResponse, this.#onError);
    } catch (err) {
      this.#onError(err);
    }
    return this.promise;
  }

  expire(): void {
    if (this.#settled) return;
    this.#settled = true;
    const err = this.#expired(this.#context, this.#ms);
    this.abort(err);
    this.#reject(err);
  }

  readonly #followParent = (): void => this.abort(this.#parent.reason);

  readonly #onResponse = (res: ProxyResponse): void => {
    deadlines.remove(this);
    if (this.#settled) discardBody(res.body);
    else {
      this.#settled = true;
      this.#resolve(res);
    }
  };

  readonly #onError = (err: unknown): void => {
    deadlines.remove(this);
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(err instanceof Error ? err : new Error(String(err)));
  };
}
