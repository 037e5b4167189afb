import { resourceKey, type PolicyKind, type PolicyResource } from '@weft/api';
import type { Located } from './finding';

/** `namespace/service`, the key services are known by. */
export function serviceKey(namespace: string, service: string): string {
  return `${namespace}/${service}`;
}

/** Live state from the control plane, for the checks that need it (`--against-control-plane`). */
export interface LiveState {
  readonly resources: readonly PolicyResource[];
  /** Labels of each registered instance, by `namespace/service`. */
  readonly instances: ReadonlyMap<string, readonly Readonly<Record<string, string>>[]>;
}

/** What the checks read: the resources, each with its origin, and live instances when asked for. */
export interface AnalysisInput {
  readonly resources: readonly Located[];
  /** Undefined offline: checks that need instances then stay silent. */
  readonly instances: LiveState['instances'] | undefined;
}

/**
 * The union of the files and (when given) the live resources. A file's resource replaces the live
 * one with the same kind, namespace and name: the files are what is about to be applied.
 */
export function analysisInput(files: readonly Located[], live: LiveState | undefined): AnalysisInput {
  const key = (r: PolicyResource): string => resourceKey(r.kind, r.metadata.namespace, r.metadata.name);
  const fromFiles = new Set(files.map((l) => key(l.resource)));
  const kept = (live?.resources ?? []).filter((r) => !fromFiles.has(key(r))).map((resource) => ({ resource, file: 'control-plane', document: null }));
  return { resources: [...files, ...kept], instances: live?.instances };
}

export function ofKind<K extends PolicyKind>(input: AnalysisInput, kind: K): Located<Extract<PolicyResource, { kind: K }>>[] {
  return input.resources.filter((l): l is Located<Extract<PolicyResource, { kind: K }>> => l.resource.kind === kind);
}

