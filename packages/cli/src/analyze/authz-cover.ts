import type { CompiledAuthzRule, CompiledOperation } from '@weft/api';

/** An operation with no conditions: what a rule without `to` stands for. */
const ANY_OPERATION: Pick<CompiledOperation, 'methods' | 'anyPath' | 'exactPaths' | 'prefixes'> = { methods: undefined, anyPath: true, exactPaths: new Set(), prefixes: [] };

/**
 * Whether `deny` matches every request `allow` matches, by the rules `decide` applies (compiled
 * by the same `compileAuthorization`, so principals are already SPIFFE IDs). Conservative: a
 * case it cannot prove answers no.
 */
export function denyCovers(deny: CompiledAuthzRule, allow: CompiledAuthzRule): boolean {
  if (deny.principals && !(allow.principals && [...allow.principals].every((p) => deny.principals?.has(p)))) return false;
  if (!deny.operations) return true;
  return (allow.operations ?? [ANY_OPERATION]).every((a) => deny.operations?.some((d) => operationCovers(d, a)));
}

function operationCovers(d: typeof ANY_OPERATION, a: typeof ANY_OPERATION): boolean {
  if (d.methods && !(a.methods && [...a.methods].every((m) => d.methods?.has(m)))) return false;
  if (d.anyPath || d.prefixes.includes('/') || d.prefixes.includes('')) return true;
  if (a.anyPath) return false;
  const covered = (path: string): boolean => d.exactPaths.has(path) || d.prefixes.some((p) => path.startsWith(p));
  return [...a.exactPaths].every(covered) && a.prefixes.every((q) => d.prefixes.some((p) => q.startsWith(p)));
}
