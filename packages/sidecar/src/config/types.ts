import type { AuthzTable, EffectiveMeshConfig, RetryOn } from '@weft/api';

/**
 * The shapes of a compiled config. Every object here is frozen and belongs to exactly one config
 * version, so the data path may key caches on them (a WeakMap per target) and a new version
 * naturally gets fresh per-target state.
 */

/** One peer sidecar that serves a destination. Only ready endpoints are compiled into pick lists. */
export interface CompiledEndpoint {
  /** `host:port` of the peer sidecar's inbound listener. */
  readonly address: string;
  readonly proxyId: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** The logical target: the service an app asked for. */
export interface Destination {
  /** `service.namespace`: the key of the route table and the `destination` metric label. */
  readonly key: string;
  readonly service: string;
  readonly namespace: string;
  /** The identity the peer sidecar must present; anything else is refused. */
  readonly spiffeId: string;
  /**
   * ServicePolicy `connectionPool`, read by the endpoint pools (one pool per endpoint). Always set
   * by the compiler (undefined when the policy leaves the field out: the pool's own default);
   * optional only so that tests can build a Destination by hand.
   */
  readonly connectTimeoutMs?: number | undefined;
  readonly idleTimeoutMs?: number | undefined;
  /** Connections per endpoint; an endpoint with this many requests in flight is full (see pool-limits). */
  readonly maxConnections?: number | undefined;
  /** MeshConfig `minTLSVersion` for connections to this destination (TLS 1.3 when absent). */
  readonly minTLSVersion?: 'TLSv1.2' | 'TLSv1.3' | undefined;
}

/** Balancers the data path implements, by registered name (balance/registry.ts). */
export type BalancerName = 'round-robin' | 'random' | 'least-request' | 'ring-hash';

/** ServicePolicy `loadBalancer` as its strategy parsed it. */
export type CompiledBalancer =
  | { readonly name: 'round-robin' }
  | { readonly name: 'random' }
  | { readonly name: 'least-request' }
  /** `hashHeader` in lower case, as Node gives header names. */
  | { readonly name: 'ring-hash'; readonly hashHeader: string };

/** ServicePolicy `outlierDetection`, durations in ms, defaults filled in. */
export interface CompiledOutlier {
  readonly consecutiveErrors: number;
  /** An ejected endpoint's ejection count drops by one per interval it stays healthy. */
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  /** No ejection lasts longer than this, however often the endpoint was ejected. */
  readonly maxEjectionMs: number;
  readonly maxEjectionPercent: number;
}

/** ServicePolicy `connectionPool` limits the backend enforces (see outbound/backend/pool-limits). */
export interface CompiledPoolLimits {
  /** Requests in flight per endpoint before it counts as full; undefined: no limit. */
  readonly maxConnections: number | undefined;
  /** Requests that may wait for a free endpoint; beyond it a request fails at once (503). */
  readonly maxPendingRequests: number;
  /** The ServicePolicy that set them, for error messages; undefined when none did. */
  readonly policy: string | undefined;
}

/** ServicePolicy `retryBudget`, defaults filled in. */
export interface CompiledRetryBudget {
  readonly percent: number;
  readonly minRetriesPerSecond: number;
}

/** What a destination's ServicePolicy compiles to, defaults filled in (config/compile-policy.ts). */
export interface CompiledServicePolicy {
  readonly balancer: CompiledBalancer;
  readonly pool: CompiledPoolLimits;
  readonly outlier: CompiledOutlier | undefined;
  readonly retryBudget: CompiledRetryBudget;
  /** The endpoint pools' settings, which also go on the Destination. */
  readonly connectTimeoutMs: number | undefined;
  readonly idleTimeoutMs: number | undefined;
}

/** The backend target: one subset of a destination (or all of it). */
export interface CompiledBackend {
  readonly destination: Destination;
  /** Undefined means every ready endpoint of the destination. */
  readonly subset: string | undefined;
  readonly endpoints: readonly CompiledEndpoint[];
  readonly balancer: CompiledBalancer;
  readonly outlier: CompiledOutlier | undefined;
  readonly pool: CompiledPoolLimits;
}

export type StringMatcher =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  /** Anchored at both ends when compiled: a regex matches the whole value, as in Envoy. */
  | { readonly kind: 'regex'; readonly regex: RegExp; readonly source: string };

export type HeaderMatcher = { readonly name: string } & (
  | StringMatcher
  | { readonly kind: 'present'; readonly present: boolean }
);

/** All conditions of one `match` entry must hold. */
export interface CompiledMatch {
  readonly path: StringMatcher | undefined;
  readonly method: string | undefined;
  readonly headers: readonly HeaderMatcher[];
}

export interface CompiledRetryPolicy {
  /** Tries in total, the first included (`retries.attempts` + 1). */
  readonly maxTries: number;
  readonly perTryTimeoutMs: number | undefined;
  readonly retryOn: ReadonlySet<RetryOn>;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Whether POST, PATCH and other non-idempotent requests are retried too. */
  readonly retryNonIdempotent: boolean;
  /** Whether the app is told `x-weft-attempts`. */
  readonly attemptsHeader: boolean;
  /** The mesh's default (DEFAULT_RETRY_POLICY) rather than a Route's `retries`. */
  readonly byDefault: boolean;
}

/** One direction's header changes, names in lower case, applied remove -> set -> add. */
export interface CompiledHeaderOps {
  readonly remove: readonly string[];
  readonly set: readonly (readonly [name: string, value: string])[];
  readonly add: readonly (readonly [name: string, value: string])[];
}

export interface CompiledHeaderRules {
  readonly request: CompiledHeaderOps | undefined;
  readonly response: CompiledHeaderOps | undefined;
}

/** ServicePolicy `rateLimit` of this sidecar's own service: a token bucket at its inbound. */
export interface CompiledRateLimit {
  readonly requestsPerSecond: number;
  readonly burst: number;
  /** The ServicePolicy that set it, for the 429's message. */
  readonly policy: string;
}

export interface CompiledFault {
  readonly delay: { readonly percent: number; readonly ms: number } | undefined;
  readonly abort: { readonly percent: number; readonly status: number } | undefined;
}

/** A weighted choice of backends, precomputed for a pick with one random number. */
export interface WeightedBackends {
  readonly backends: readonly CompiledBackend[];
  /** `cumulative[i]` is the sum of weights 0..i; a pick finds the first entry above r. */
  readonly cumulative: readonly number[];
  readonly total: number;
}

/** The route target: one rule of a Route (or the default rule), in first-match-wins order. */
export interface CompiledRule {
  /** `<route>/<rule index>`, or `default` when no Route exists: the `route` metric label. */
  readonly name: string;
  readonly destination: Destination;
  /** Any one entry matching selects the rule; an empty list matches every request. */
  readonly matches: readonly CompiledMatch[];
  readonly split: WeightedBackends;
  /** Overall deadline for response headers, from the first byte of the request. */
  readonly timeoutMs: number | undefined;
  readonly retry: CompiledRetryPolicy | undefined;
  /** The destination's retry budget (shared by its rules; its counters live in the retry layer). */
  readonly retryBudget: CompiledRetryBudget;
  readonly fault: CompiledFault | undefined;
  readonly headers: CompiledHeaderRules | undefined;
}

/** A destination with its route table and endpoints. */
export interface CompiledService extends Destination {
  readonly rules: readonly CompiledRule[];
  /** Every endpoint the registry knows, ready or not (for `/config`; pick lists hold ready ones). */
  readonly allEndpoints: readonly { readonly address: string; readonly ready: boolean; readonly labels: Readonly<Record<string, string>> }[];
  /** Route resources in force, in the order their rules are tried. */
  readonly routes: readonly string[];
  /** Subset name -> ready endpoints whose labels include the subset's labels. */
  readonly subsets: ReadonlyMap<string, readonly CompiledEndpoint[]>;
  /** The ServicePolicy in force (undefined: none, defaults apply) and what it compiled to. */
  readonly policy: string | undefined;
  readonly traffic: CompiledServicePolicy;
  /** What the ServicePolicy asked for when the data path does not implement it yet. */
  readonly notes: readonly string[];
}

/**
 * A snapshot from the control plane compiled into frozen lookup tables. Built once per config
 * version; the request path reads it and never parses policy.
 *
 * CONTRACT (shared by control/ and the data path): `version`, `storeRevision`, `mesh`,
 * `trustBundlePem` and `describe()` are used outside the data path. The data path adds its own
 * lookup members below them.
 */
export interface CompiledConfig {
  readonly version: string;
  readonly storeRevision: number;
  readonly mesh: EffectiveMeshConfig;
  readonly trustBundlePem: readonly string[];
  /** JSON-safe view of what is in force (routes, endpoints), for the admin `/config` page. */
  describe(): unknown;

  /** Destinations by key (`service.namespace`). */
  readonly services: ReadonlyMap<string, CompiledService>;
  /**
   * The destination an authority names (lower-case host, port removed): `orders` (in this
   * sidecar's namespace), `orders.shop`, `orders.shop.svc`, `orders.shop.svc.cluster.local`.
   */
  lookup(authority: string): CompiledService | undefined;
  /** The destination whose app listens at HOST:PORT (announced app ports): where a captured connection was going. */
  lookupAddress(host: string, port: number): CompiledService | undefined;
  /** IPv4 hosts of a destination's ready endpoints that announced an app port: what DNS answers for its name. */
  hostsOf(service: CompiledService): readonly string[];
  /** This sidecar's own AuthorizationPolicies, compiled for the inbound `authorize` layer. */
  readonly authz: AuthzTable;
  /** This sidecar's own service's ServicePolicy `rateLimit`, for the inbound `rateLimit` layer. */
  readonly localRateLimit: CompiledRateLimit | undefined;
}
