import * as z from 'zod';
import { duration, name, percent } from './common';

export const LOAD_BALANCERS = ['round-robin', 'least-request', 'random', 'ring-hash'] as const;

const subset = z.strictObject({
  name,
  labels: z.record(z.string(), z.string()),
});

export const servicePolicySpec = z
  .strictObject({
    service: name,
    subsets: z.array(subset).optional(),
    loadBalancer: z
      .strictObject({
        algorithm: z.enum(LOAD_BALANCERS),
        /** ring-hash only: the request header whose value picks the endpoint. */
        hashHeader: z
          .string()
          .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a valid HTTP header name')
          .optional(),
      })
      .optional(),
    connectionPool: z
      .strictObject({
        maxConnections: z.number().int().min(1).optional(),
        maxPendingRequests: z.number().int().min(0).optional(),
        connectTimeout: duration.optional(),
        idleTimeout: duration.optional(),
      })
      .optional(),
    outlierDetection: z
      .strictObject({
        consecutiveErrors: z.number().int().min(1),
        interval: duration.optional(),
        baseEjectionTime: duration.optional(),
        maxEjectionPercent: percent.optional(),
      })
      .optional(),
    retryBudget: z
      .strictObject({ percent, minRetriesPerSecond: z.number().min(0).optional() })
      .optional(),
    rateLimit: z
      .strictObject({ requestsPerSecond: z.number().positive(), burst: z.number().int().min(1).optional() })
      .optional(),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    (spec.subsets ?? []).forEach((s, i) => {
      if (seen.has(s.name)) {
        ctx.addIssue({ code: 'custom', path: ['subsets', i, 'name'], message: `subset "${s.name}" is defined twice` });
      }
      seen.add(s.name);
    });
    if (spec.loadBalancer?.hashHeader !== undefined && spec.loadBalancer.algorithm !== 'ring-hash') {
      ctx.addIssue({
        code: 'custom',
        path: ['loadBalancer', 'hashHeader'],
        message: `is only used by algorithm ring-hash: remove it, or set algorithm: ring-hash`,
      });
    }
    if (spec.loadBalancer?.algorithm === 'ring-hash' && !spec.loadBalancer.hashHeader) {
      ctx.addIssue({
        code: 'custom',
        path: ['loadBalancer', 'hashHeader'],
        message: 'is required when algorithm is ring-hash (name the header to hash on)',
      });
    }
  });

export type ServicePolicySpec = z.infer<typeof servicePolicySpec>;

/** Whether an instance with `labels` belongs to a subset: it carries every label the subset names. */
export function inSubset(labels: Readonly<Record<string, string>>, subsetLabels: Readonly<Record<string, string>>): boolean {
  return Object.entries(subsetLabels).every(([k, v]) => labels[k] === v);
}
