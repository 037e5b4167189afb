import { spiffeId, type AuthorizationPolicy } from '@weft/api';

/**
 * Which services may call which, as the AuthorizationPolicies say: what a proxy's snapshot needs
 * to carry, and so which proxies a change concerns. A destination with an ALLOW policy admits only
 * the callers its ALLOW rules name (by service or by principal); a destination without one, or
 * with an ALLOW rule that names no `from` (any caller), may be called by every proxy. DENY
 * policies never narrow the scope: they can depend on method and path, which a snapshot cannot.
 *
 * A proxy whose scope leaves a destination out does not know that destination at all: its app's
 * call is answered by its own sidecar (503 WEFT_ERR_NO_ENDPOINTS, unknown service) instead of
 * being sent to be refused (403) by the destination's sidecar. Either way the call fails; this
 * way the caller also never learns the destination's endpoints (as Istio's `Sidecar` egress
 * scoping does).
 */
export class CallScope {
  /** Destination (`namespace/service`) -> SPIFFE IDs that may call it; absent: anyone may. */
  readonly #callers = new Map<string, ReadonlySet<string>>();

  constructor(policies: readonly AuthorizationPolicy[], trustDomain: string) {
    const allowed = new Map<string, Set<string> | 'anyone'>();
    for (const p of policies) {
      if (p.spec.action !== 'ALLOW') continue;
      const key = `${p.metadata.namespace}/${p.spec.service}`;
      let callers = allowed.get(key) ?? new Set<string>();
      for (const rule of p.spec.rules ?? []) {
        if (callers === 'anyone') break;
        if (!rule.from) {
          callers = 'anyone';
          break;
        }
        for (const from of rule.from) {
          if (from.principal !== undefined) callers.add(from.principal);
          else if (from.service !== undefined) callers.add(spiffeId({ trustDomain, namespace: from.namespace ?? p.metadata.namespace, service: from.service }));
        }
      }
      allowed.set(key, callers);
    }
    for (const [key, callers] of allowed) if (callers !== 'anyone') this.#callers.set(key, callers);
  }

  /** Whether the proxy with SPIFFE ID `caller` may call `destination` (`namespace/service`). */
  mayCall(caller: string, destination: string): boolean {
    const callers = this.#callers.get(destination);
    return callers === undefined || callers.has(caller);
  }
}
