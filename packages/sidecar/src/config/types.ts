import type { EffectiveMeshConfig, RetryOn } from '@weft/api';

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
}

/** Balancers the data path implements, by registered name. */
export type BalancerName = 'round-robin' | 'random';

/** The backend target: one subset of a destination (or all of it). */
export interface CompiledBackend {
  readonly destination: Destination;
  /** Undefined means every ready endpoint of the destination. */
  readonly subset: string | undefined;
  readonly endpoints: readonly CompiledEndpoint[];
  readonly balancer: BalancerName;
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
  readonly fault: CompiledFault | undefined;
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
}
