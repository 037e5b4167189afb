import * as z from 'zod';
import { parseDuration } from '../duration';
import { duration, exactlyOne, name, percent, regex } from './common';

/** An HTTP field name (RFC 9110 token). */
const HEADER_NAME_RE = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

const stringMatch = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: regex.optional() })
  .superRefine(exactlyOne(['exact', 'prefix', 'regex']));

const headerMatch = z
  .strictObject({
    name: z.string().min(1).regex(HEADER_NAME_RE, 'must be a valid HTTP header name'),
    exact: z.string().optional(),
    prefix: z.string().optional(),
    regex: regex.optional(),
    present: z.boolean().optional(),
  })
  .superRefine(exactlyOne(['exact', 'prefix', 'regex', 'present']));

const match = z.strictObject({
  path: stringMatch.optional(),
  method: z
    .string()
    .regex(/^[A-Z]+$/, 'must be an upper-case HTTP method such as "GET"')
    .optional(),
  headers: z.array(headerMatch).optional(),
});

const backend = z.strictObject({
  /** A subset defined by the destination's ServicePolicy; absent means every endpoint. */
  subset: name.optional(),
  weight: z.number().int().min(0).max(100).optional(),
});

/**
 * What a retry policy retries. The HTTP ones are Envoy's; the gRPC ones (`unavailable`, ...) read
 * the `grpc-status` of a trailers-only response (14, 8, 1, 4, 13), as Envoy's `retry_on` does.
 */
export const RETRY_ON = [
  '5xx',
  'gateway-error',
  'connect-failure',
  'reset',
  'unavailable',
  'resource-exhausted',
  'cancelled',
  'deadline-exceeded',
  'internal',
] as const;
export type RetryOn = (typeof RETRY_ON)[number];

/**
 * Backoff between retries when a Route leaves it out: the first wait is at most the base, each
 * later one doubles, up to the max. Here, not in the sidecar, so that the schema checks a lone
 * `maxInterval` against the base the sidecar will really use.
 */
export const RETRY_BACKOFF_DEFAULTS = Object.freeze({ baseMs: 25, maxMs: 250 });

const backoff = z
  .strictObject({ baseInterval: duration.optional(), maxInterval: duration.optional() })
  .superRefine((b, ctx) => {
    if (b.maxInterval === undefined) return; // the sidecar raises its default max to the base
    const max = parseDuration(b.maxInterval);
    const base = b.baseInterval === undefined ? RETRY_BACKOFF_DEFAULTS.baseMs : parseDuration(b.baseInterval);
    if (max === undefined || base === undefined || max >= base) return; // a bad duration is reported on its own field
    ctx.addIssue({
      code: 'custom',
      path: ['maxInterval'],
      message:
        b.baseInterval === undefined
          ? `must not be shorter than the default baseInterval (${RETRY_BACKOFF_DEFAULTS.baseMs}ms): raise it, or set a shorter baseInterval`
          : `must not be shorter than baseInterval (${b.baseInterval}): raise maxInterval or lower baseInterval`,
    });
  });

const retries = z.strictObject({
  attempts: z.number().int().min(0).max(10),
  perTryTimeout: duration.optional(),
  retryOn: z.array(z.enum(RETRY_ON)).optional(),
  backoff: backoff.optional(),
  /** POST, PATCH and other non-idempotent methods are retried only when this is true. */
  retryNonIdempotent: z.boolean().optional(),
  /** Tell the app how many tries a response took in `x-weft-attempts` (default true). */
  attemptsHeader: z.boolean().optional(),
});

/**
 * Headers a Route may not touch: the mesh's own (`x-weft-*`, trace context, the client certificate), the ones that frame
 * the message or describe one connection, and the authority, which routing already used.
 */
const RESERVED_HEADERS = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'traceparent',
  'tracestate',
  'x-forwarded-client-cert',
]);

// RFC 9110 field values: visible characters, spaces and tabs; never CR, LF or NUL.
const headerValue = z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'must not contain control characters such as line breaks');

/** Why a Route may not change this header, or undefined when it may. */
function headerNameProblem(name: string): string | undefined {
  if (!HEADER_NAME_RE.test(name)) return 'must be a valid HTTP header name';
  const lower = name.toLowerCase();
  if (lower.startsWith('x-weft-') || RESERVED_HEADERS.has(lower)) {
    return 'is owned by the mesh or by HTTP framing and cannot be changed by a Route';
  }
  return undefined;
}

const headerOps = z
  .strictObject({
    set: z.record(z.string(), headerValue).optional(),
    add: z.record(z.string(), headerValue).optional(),
    remove: z.array(z.string()).optional(),
  })
  .superRefine((ops, ctx) => {
    // Names are case-insensitive: two spellings of one name would make the outcome depend on order.
    const seen = new Map<string, string>();
    const check = (name: string, where: string, path: PropertyKey[]): void => {
      const problem = headerNameProblem(name);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', path, message: problem });
        return;
      }
      const lower = name.toLowerCase();
      const first = seen.get(lower);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path, message: `names header "${lower}" again (already in ${first}): list each header once` });
      else seen.set(lower, where);
    };
    for (const name of Object.keys(ops.set ?? {})) check(name, 'set', ['set', name]);
    for (const name of Object.keys(ops.add ?? {})) check(name, 'add', ['add', name]);
    (ops.remove ?? []).forEach((name, i) => check(name, 'remove', ['remove', i]));
  });

/** Header changes per rule: `remove`, then `set` (replaces), then `add` (appends). */
const headers = z.strictObject({ request: headerOps.optional(), response: headerOps.optional() });

const fault = z.strictObject({
  delay: z.strictObject({ percent, fixedDelay: duration }).optional(),
  abort: z.strictObject({ percent, httpStatus: z.number().int().min(200).max(599) }).optional(),
});

const backends = z
  .array(backend)
  .min(1)
  .superRefine((list, ctx) => {
    if (list.length < 2) return;
    const total = list.reduce((sum, b) => sum + (b.weight ?? 0), 0);
    if (total !== 100) {
      ctx.addIssue({
        code: 'custom',
        message: `weights must add up to 100 when there are several backends (they add up to ${total})`,
      });
    }
  });

const rule = z.strictObject({
  match: z.array(match).optional(),
  backends: backends.optional(),
  timeout: duration.optional(),
  retries: retries.optional(),
  fault: fault.optional(),
  headers: headers.optional(),
});

export const routeSpec = z.strictObject({
  /** The destination service, in the Route's namespace. */
  service: name,
  rules: z.array(rule).min(1),
});

export type RouteSpec = z.infer<typeof routeSpec>;
export type RouteRule = z.infer<typeof rule>;
export type RouteMatch = z.infer<typeof match>;
export type StringMatch = z.infer<typeof stringMatch>;
export type HeaderMatch = z.infer<typeof headerMatch>;
export type HeaderOps = z.infer<typeof headerOps>;
