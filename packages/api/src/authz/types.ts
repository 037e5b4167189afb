/**
 * The compiled form of a service's AuthorizationPolicies and the shape of a decision. Built once
 * per config version by `compileAuthorization`, read per request by `decide`; every object is
 * frozen, so a table can be shared by every request of its version.
 */

export type AuthzAction = 'ALLOW' | 'DENY';

/** What the inbound side knows about a request when it authorizes it. */
export interface AuthzRequest {
  /** The caller's SPIFFE ID from its verified certificate; '' when it has none (plaintext). */
  readonly principal: string;
  readonly method: string;
  /** The path without query, as received; `decide` normalizes it when a policy matches paths. */
  readonly path: string;
}

/** One `to` entry: all of its conditions must hold. */
export interface CompiledOperation {
  /** Undefined: any method. */
  readonly methods: ReadonlySet<string> | undefined;
  /** True when the entry names no paths. */
  readonly anyPath: boolean;
  readonly exactPaths: ReadonlySet<string>;
  /** Prefixes of `*` paths, without the `*`. */
  readonly prefixes: readonly string[];
  /** As written, for explanations. */
  readonly source: { readonly methods?: readonly string[]; readonly paths?: readonly string[] };
}

export interface CompiledAuthzRule {
  /** Position in the policy's `rules`, as the operator counts in `spec.rules[i]`. */
  readonly index: number;
  /** SPIFFE IDs a `from` entry names (`{service, namespace}` resolved); undefined: any caller. */
  readonly principals: ReadonlySet<string> | undefined;
  /** Undefined: any operation. */
  readonly operations: readonly CompiledOperation[] | undefined;
  /** The sentence a decision made by this rule carries, built once. */
  readonly reason: string;
}

export interface CompiledAuthzPolicy {
  /** `namespace/name`. */
  readonly name: string;
  readonly action: AuthzAction;
  readonly rules: readonly CompiledAuthzRule[];
}

/** Every AuthorizationPolicy of one service, DENY and ALLOW apart, each in name order. */
export interface AuthzTable {
  readonly service: string;
  readonly namespace: string;
  readonly trustDomain: string;
  readonly deny: readonly CompiledAuthzPolicy[];
  readonly allow: readonly CompiledAuthzPolicy[];
  /** True when some rule matches on paths: only then is the request path normalized (and checked). */
  readonly constrainsPaths: boolean;
}

/**
 * Why a decision came out as it did. Stable: metrics label it and callers branch on it.
 * - `no-allow-policy`: no DENY rule matched and no ALLOW policy exists for the service.
 * - `allow-rule` / `deny-rule`: that rule of that policy matched.
 * - `no-allow-match`: ALLOW policies exist and none of their rules matched.
 * - `ambiguous-path`: the path cannot be normalized safely (an encoded "/", a bad escape).
 */
export type AuthzCause = 'no-allow-policy' | 'allow-rule' | 'deny-rule' | 'no-allow-match' | 'ambiguous-path';

export interface AuthzDecision {
  readonly allowed: boolean;
  readonly cause: AuthzCause;
  /** `namespace/name` of the policy whose rule decided, for `allow-rule` and `deny-rule`. */
  readonly policy?: string;
  readonly action?: AuthzAction;
  readonly rule?: number;
  /** One sentence for people: the 403 body, what `weftctl auth check` prints. */
  readonly reason: string;
  /** The path the rules were matched against; the app must receive this one. */
  readonly path: string;
}
