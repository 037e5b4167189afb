import { inSubset } from '@weft/api';
import { ofKind, serviceKey, type AnalysisInput } from './analysis-input';
import { finding, type Finding } from './finding';

/**
 * WA0002 UnknownSubset: a Route backend names a subset that no ServicePolicy of its service
 * defines. The sidecar gives such a backend no endpoints, so its share of requests fails with 503.
 */
export function checkUnknownSubsets(input: AnalysisInput): Finding[] {
  const defined = new Map<string, Set<string>>();
  for (const sp of ofKind(input, 'ServicePolicy')) {
    const key = serviceKey(sp.resource.metadata.namespace, sp.resource.spec.service);
    const names = defined.get(key) ?? new Set<string>();
    for (const s of sp.resource.spec.subsets ?? []) names.add(s.name);
    defined.set(key, names);
  }
  const findings: Finding[] = [];
  for (const route of ofKind(input, 'Route')) {
    const { spec, metadata } = route.resource;
    const names = defined.get(serviceKey(metadata.namespace, spec.service));
    spec.rules.forEach((rule, r) =>
      (rule.backends ?? []).forEach((backend, b) => {
        if (backend.subset === undefined || names?.has(backend.subset)) return;
        const where = names === undefined
          ? `no ServicePolicy for service ${spec.service} in namespace ${metadata.namespace} defines subsets`
          : `the ServicePolicy for ${spec.service} defines ${names.size > 0 ? [...names].sort().join(', ') : 'no subsets'}`;
        findings.push(
          finding('UnknownSubset', route, `spec.rules[${r}].backends[${b}].subset`, `names subset "${backend.subset}", but ${where}: requests sent to it fail with 503. Define the subset in a ServicePolicy for ${spec.service}, or fix the name`),
        );
      }),
    );
  }
  return findings;
}

/**
 * WA0003 SubsetSelectsNoInstance (live state only): a ServicePolicy subset whose labels match
 * none of the service's registered instances, so a Route sending traffic to it gets 503s.
 */
export function checkEmptySubsets(input: AnalysisInput): Finding[] {
  if (!input.instances) return [];
  const findings: Finding[] = [];
  for (const sp of ofKind(input, 'ServicePolicy')) {
    const { spec, metadata } = sp.resource;
    const instances = input.instances.get(serviceKey(metadata.namespace, spec.service)) ?? [];
    (spec.subsets ?? []).forEach((subset, i) => {
      if (instances.some((labels) => inSubset(labels, subset.labels))) return;
      const wanted = Object.entries(subset.labels).map(([k, v]) => `${k}=${v}`).join(',') || '(none)';
      const seen = instances.length === 0
        ? `service ${spec.service} has no registered instance in namespace ${metadata.namespace}`
        : `none of the ${instances.length} instance${instances.length === 1 ? '' : 's'} of ${spec.service} carries them (weftctl get services shows their labels)`;
      findings.push(finding('SubsetSelectsNoInstance', sp, `spec.subsets[${i}].labels`, `subset "${subset.name}" selects ${wanted}, but ${seen}: check the labels, or start sidecars with --labels for this subset`));
    });
  }
  return findings;
}
