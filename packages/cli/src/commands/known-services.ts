import type { AuthorizationPolicy, MeshConfig, PolicyKind, PolicyResource } from '@weft/api';
import type { AdminApi } from '../admin-client';

/** `namespace/service` of every service the control plane knows of. */
export type KnownServices = ReadonlySet<string>;

const NAMING_KINDS: readonly PolicyKind[] = ['Route', 'ServicePolicy', 'AuthorizationPolicy'];

/**
 * The services the control plane knows of: those with endpoints in the registry, and those a
 * policy names (as its `service`, or as a caller in an AuthorizationPolicy rule), in every
 * namespace. A service outside this set is most likely a typo.
 */
export async function knownServices(api: AdminApi): Promise<KnownServices> {
  const known = new Set<string>();
  for (const s of (await api.listServices()).services) known.add(`${s.namespace}/${s.service}`);
  for (const kind of NAMING_KINDS) {
    const { itemsJson } = await api.get({ kind, namespace: '', name: '' });
    for (const json of itemsJson) {
      const r = JSON.parse(json) as Exclude<PolicyResource, MeshConfig>;
      const ns = r.metadata.namespace;
      known.add(`${ns}/${r.spec.service}`);
      if (r.kind !== 'AuthorizationPolicy') continue;
      for (const rule of (r as AuthorizationPolicy).spec.rules ?? []) {
        for (const from of rule.from ?? []) if (from.service) known.add(`${from.namespace ?? ns}/${from.service}`);
      }
    }
  }
  return known;
}

/**
 * A warning when `service` in `namespace` is not known, naming the closest known name when one is
 * a likely typo; undefined when it is known.
 */
export function unknownServiceWarning(known: KnownServices, flag: string, service: string, namespace: string): string | undefined {
  if (known.has(`${namespace}/${service}`)) return undefined;
  const names = [...known].filter((k) => k.startsWith(`${namespace}/`)).map((k) => k.slice(namespace.length + 1));
  const near = closestName(names, service);
  const elsewhere = [...known].filter((k) => k.endsWith(`/${service}`)).map((k) => k.split('/')[0]);
  const hint = near
    ? `did you mean "${near}"?`
    : elsewhere.length > 0
      ? `it exists in namespace ${elsewhere.map((n) => `"${n}"`).join(', ')}`
      : 'check the spelling (weftctl get services -A)';
  return `warning: ${flag} ${service}: no service "${service}" in namespace "${namespace}" is known to the control plane (no endpoints, and no policy names it): ${hint}\n`;
}

/** The candidate at most two edits from `name` (the nearest one), as a "did you mean" hint. */
export function closestName(candidates: Iterable<string>, name: string): string | undefined {
  return [...candidates].filter((n) => n !== name && editDistance(n, name) <= 2).sort((a, b) => editDistance(a, name) - editDistance(b, name))[0];
}

/** Levenshtein distance with adjacent transpositions counted as one edit (`inventroy` is 1 from `inventory`). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}
