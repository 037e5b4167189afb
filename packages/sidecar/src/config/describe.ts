import { describeAuthorization, formatDuration } from '@weft/api';
import type {
  CompiledConfig,
  CompiledHeaderOps,
  CompiledMatch,
  CompiledRule,
  CompiledService,
  CompiledServicePolicy,
  HeaderMatcher,
  StringMatcher,
} from './types';

/**
 * The JSON view of a compiled config for the admin `/config` page: what is in force, per
 * destination, in the words an operator wrote it (durations as text, regexes as source).
 * Never includes key material.
 */
export function describeConfig(config: CompiledConfig, orphanRoutes: readonly string[]): unknown {
  return {
    version: config.version,
    storeRevision: config.storeRevision,
    mesh: config.mesh,
    trustBundleCertificates: config.trustBundlePem.length,
    services: [...config.services.values()].sort((a, b) => a.key.localeCompare(b.key)).map(describeService),
    ...(orphanRoutes.length > 0 ? { routesForUnknownServices: orphanRoutes } : {}),
    ...(config.localRateLimit ? { localRateLimit: config.localRateLimit } : {}),
    authorization: describeAuthorization(config.authz),
  };
}

function describeService(s: CompiledService): unknown {
  return {
    service: s.service,
    namespace: s.namespace,
    spiffeId: s.spiffeId,
    endpoints: s.allEndpoints.map((e) => ({ address: e.address, ready: e.ready, labels: e.labels })),
    subsets: Object.fromEntries([...s.subsets].map(([name, eps]) => [name, eps.map((e) => e.address)])),
    routes: s.routes,
    ...(s.policy !== undefined ? { servicePolicy: s.policy } : {}),
    traffic: describeTraffic(s.traffic),
    rules: s.rules.map(describeRule),
    ...(s.notes.length > 0 ? { notes: s.notes } : {}),
  };
}

function describeRule(r: CompiledRule): unknown {
  const out: Record<string, unknown> = {
    name: r.name,
    match: r.matches.length === 0 ? 'every request' : r.matches.map(describeMatch),
    backends: r.split.backends.map((b, i) => ({
      subset: b.subset ?? '(all endpoints)',
      weight: (r.split.cumulative[i] ?? 0) - (r.split.cumulative[i - 1] ?? 0),
      balancer: b.balancer.name,
      readyEndpoints: b.endpoints.length,
    })),
  };
  if (r.timeoutMs !== undefined) out['timeout'] = formatDuration(r.timeoutMs);
  if (!r.retry) out['retries'] = { attempts: 0 };
  else if (r.retry.byDefault) {
    // The mesh's default (retry-defaults DEFAULT_RETRY_POLICY): said as what it does.
    out['retries'] = { default: true, attempts: r.retry.maxTries - 1, retryOn: [...r.retry.retryOn], only: 'attempts that reached no app', backoff: 'none' };
  } else {
    out['retries'] = {
      attempts: r.retry.maxTries - 1,
      retryOn: [...r.retry.retryOn],
      ...(r.retry.perTryTimeoutMs !== undefined ? { perTryTimeout: formatDuration(r.retry.perTryTimeoutMs) } : {}),
      backoff: { baseInterval: formatDuration(r.retry.backoffBaseMs), maxInterval: formatDuration(r.retry.backoffMaxMs) },
      retryNonIdempotent: r.retry.retryNonIdempotent,
      attemptsHeader: r.retry.attemptsHeader,
    };
  }
  if (r.headers) {
    const { request, response } = r.headers;
    out['headers'] = { ...(request ? { request: describeHeaderOps(request) } : {}), ...(response ? { response: describeHeaderOps(response) } : {}) };
  }
  if (r.fault) {
    const { delay, abort } = r.fault;
    out['fault'] = {
      ...(delay ? { delay: { percent: delay.percent, fixedDelay: formatDuration(delay.ms) } } : {}),
      ...(abort ? { abort: { percent: abort.percent, httpStatus: abort.status } } : {}),
    };
  }
  return out;
}

/** The ServicePolicy settings in force for a destination, defaults included, durations as text. */
function describeTraffic(t: CompiledServicePolicy): unknown {
  const od = t.outlier;
  return {
    loadBalancer: t.balancer.name === 'ring-hash' ? { algorithm: t.balancer.name, hashHeader: t.balancer.hashHeader } : { algorithm: t.balancer.name },
    connectionPool: {
      ...(t.pool.maxConnections !== undefined ? { maxConnections: t.pool.maxConnections } : {}),
      maxPendingRequests: t.pool.maxPendingRequests,
      ...(t.connectTimeoutMs !== undefined ? { connectTimeout: formatDuration(t.connectTimeoutMs) } : {}),
      ...(t.idleTimeoutMs !== undefined ? { idleTimeout: formatDuration(t.idleTimeoutMs) } : {}),
    },
    ...(od
      ? {
          outlierDetection: {
            consecutiveErrors: od.consecutiveErrors,
            interval: formatDuration(od.intervalMs),
            baseEjectionTime: formatDuration(od.baseEjectionMs),
            maxEjectionPercent: od.maxEjectionPercent,
          },
        }
      : {}),
    retryBudget: { percent: t.retryBudget.percent, minRetriesPerSecond: t.retryBudget.minRetriesPerSecond },
  };
}

function describeHeaderOps(ops: CompiledHeaderOps): unknown {
  return {
    ...(ops.remove.length > 0 ? { remove: ops.remove } : {}),
    ...(ops.set.length > 0 ? { set: Object.fromEntries(ops.set) } : {}),
    ...(ops.add.length > 0 ? { add: Object.fromEntries(ops.add) } : {}),
  };
}

function describeMatch(m: CompiledMatch): unknown {
  const out: Record<string, unknown> = {};
  if (m.path) out['path'] = describeString(m.path);
  if (m.method) out['method'] = m.method;
  if (m.headers.length > 0) out['headers'] = m.headers.map(describeHeader);
  return out;
}

function describeHeader(h: HeaderMatcher): unknown {
  return h.kind === 'present' ? { name: h.name, present: h.present } : { name: h.name, ...(describeString(h) as object) };
}

function describeString(m: StringMatcher): unknown {
  return m.kind === 'regex' ? { regex: m.source } : { [m.kind]: m.value };
}
