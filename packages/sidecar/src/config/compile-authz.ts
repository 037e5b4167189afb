import { AuthzCompileError, compileAuthorization, type AuthorizationPolicy, type AuthzTable } from '@weft/api';
import type { SelfInfo } from '../self';
import { ConfigCompileError } from './errors';

/**
 * The inbound authorization table of this sidecar's own service: the AuthorizationPolicies in
 * the snapshot that name it (the control plane sends only those; others would be ignored), built
 * by the same compiler `weftctl auth check` uses. `{service}` sources resolve in this sidecar's
 * trust domain. A policy that cannot be compiled refuses the whole snapshot (NACK), so the
 * previous table stays in force rather than a half-built one.
 */
export function compileAuthzTable(policies: readonly AuthorizationPolicy[], self: Pick<SelfInfo, 'service' | 'namespace' | 'trustDomain'>): AuthzTable {
  try {
    return compileAuthorization(policies, self.service, self.namespace, { trustDomain: self.trustDomain });
  } catch (err) {
    if (err instanceof AuthzCompileError) throw new ConfigCompileError(err.message);
    throw err;
  }
}
