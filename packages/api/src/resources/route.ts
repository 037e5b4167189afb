import { z } from 'zod';
import { duration, exactlyOne, name, percent, regex } from './common';

const stringMatch = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: regex.optional() })
  .superRefine(exactlyOne(['exact', 'prefix', 'regex']));

const headerMatch = z
  .strictObject({
    name: z.string().min(1).regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name'),
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

export const RETRY_ON = ['5xx', 'gateway-error', 'connect-failure', 'reset'] as const;
export type RetryOn = (typeof RETRY_ON)[number];

const retries = z.strictObject({
  attempts: z.number().int().min(0).max(10),
  perTryTimeout: duration.optional(),
  retryOn: z.array(z.enum(RETRY_ON)).optional(),
  backoff: z
    .strictObject({ baseInterval: duration.optional(), maxInterval: duration.optional() })
    .optional(),
});

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
