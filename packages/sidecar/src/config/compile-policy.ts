import type { ServicePolicy } from '@weft/api';
import { parseBalancer } from '../balance/registry';
import { RATE_LIMIT_DEFAULTS } from '../inbound/rate-limit';
import { RETRY_DEFAULTS } from '../layers/retry-defaults';
import { OUTLIER_DEFAULTS } from '../outbound/backend/outlier';
import { POOL_DEFAULTS } from '../outbound/backend/pool-limits';
import { ms } from './compile-rule';
import { ConfigCompileError } from './errors';
import type { CompiledBalancer, CompiledRateLimit, CompiledServicePolicy } from './types';

/**
 * Compiles the traffic parts of a destination's ServicePolicy (or the defaults, without one):
 * the balancer through its registered parser, pool limits, outlier detection, retry budget.
 * Durations become ms here, once; a setting the data path cannot use is a ConfigCompileError.
 */
export function compileServicePolicy(policy: ServicePolicy | undefined): CompiledServicePolicy {
  const spec = policy?.spec;
  const at = `ServicePolicy ${policy?.metadata.name ?? ''}: spec`;
  const pool = spec?.connectionPool;
  const od = spec?.outlierDetection;
  const base = od ? (ms(od.baseEjectionTime, `${at}.outlierDetection.baseEjectionTime`) ?? OUTLIER_DEFAULTS.baseEjectionMs) : 0;
  return Object.freeze({
    balancer: balancer(spec?.loadBalancer, `${at}.loadBalancer`),
    pool: Object.freeze({
      maxConnections: pool?.maxConnections,
      maxPendingRequests: pool?.maxPendingRequests ?? POOL_DEFAULTS.maxPendingRequests,
      policy: policy?.metadata.name,
    }),
    outlier: od
      ? Object.freeze({
          consecutiveErrors: od.consecutiveErrors,
          intervalMs: ms(od.interval, `${at}.outlierDetection.interval`) ?? OUTLIER_DEFAULTS.intervalMs,
          baseEjectionMs: base,
          maxEjectionMs: Math.max(OUTLIER_DEFAULTS.maxEjectionMs, base),
          maxEjectionPercent: od.maxEjectionPercent ?? OUTLIER_DEFAULTS.maxEjectionPercent,
        })
      : undefined,
    retryBudget: Object.freeze({
      percent: spec?.retryBudget?.percent ?? RETRY_DEFAULTS.budgetPercent,
      minRetriesPerSecond: spec?.retryBudget?.minRetriesPerSecond ?? RETRY_DEFAULTS.budgetMinRetriesPerSecond,
    }),
    connectTimeoutMs: ms(pool?.connectTimeout, `${at}.connectionPool.connectTimeout`),
    idleTimeoutMs: ms(pool?.idleTimeout, `${at}.connectionPool.idleTimeout`),
  });
}

/** The local rate limit of this sidecar's own service, from its ServicePolicy. */
export function compileRateLimit(policy: ServicePolicy | undefined): CompiledRateLimit | undefined {
  const limit = policy?.spec.rateLimit;
  if (!policy || !limit) return undefined;
  return Object.freeze({
    requestsPerSecond: limit.requestsPerSecond,
    burst: limit.burst ?? Math.max(RATE_LIMIT_DEFAULTS.minBurst, Math.ceil(limit.requestsPerSecond)),
    policy: policy.metadata.name,
  });
}

function balancer(spec: Parameters<typeof parseBalancer>[0], at: string): CompiledBalancer {
  try {
    return parseBalancer(spec);
  } catch (err) {
    throw new ConfigCompileError(`${at}: ${(err as Error).message}`);
  }
}
