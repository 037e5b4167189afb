import {
  API_VERSION,
  DEFAULT_NAMESPACE,
  effectiveMeshConfig,
  KINDS,
  resolveKind,
  resourceDocument,
  resourceKey,
  type GetRequest,
  type PolicyKind,
  type PolicyResource,
} from '@weft/api';
import { ControlPlaneError } from '../errors';
import type { Store } from '../store/store';

export function kindFor(text: string): PolicyKind {
  const kind = resolveKind(text ?? '');
  if (kind) return kind;
  const known = Object.values(KINDS).map((k) => `${k.kind} (${[k.plural, ...k.aliases].join(', ')})`);
  throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', `unknown kind ${JSON.stringify(text ?? '')}: use one of ${known.join('; ')}`);
}

/** Mesh-wide kinds have no namespace; a namespaced one defaults to `default` when a name is given. */
export function namespaceFor(kind: PolicyKind, namespace: string | undefined): string {
  return KINDS[kind].namespaced ? namespace || DEFAULT_NAMESPACE : '';
}

/**
 * What Admin.Get returns: stored resources as applied, or the one named. `MeshConfig` with none
 * stored is synthesized with every default filled in, so `weftctl get meshconfig` shows what
 * sidecars actually run with.
 */
export function getResources(store: Store, trustDomain: string, req: GetRequest): PolicyResource[] {
  const kind = kindFor(req.kind);
  const stored = (): PolicyResource[] => {
    if (!req.name) return [...store.list(kind, KINDS[kind].namespaced ? req.namespace : undefined)];
    const namespace = namespaceFor(kind, req.namespace);
    const found = store.get(resourceKey(kind, namespace, req.name));
    if (found) return [found];
    if (kind === 'MeshConfig' && req.name === 'default') return [];
    throw new ControlPlaneError('WEFT_ERR_NOT_FOUND', `${kind} ${namespace ? `${namespace}/` : ''}${req.name} not found`);
  };
  let items = stored();
  if (kind === 'MeshConfig' && items.length === 0) {
    items = [{ apiVersion: API_VERSION, kind: 'MeshConfig', metadata: { name: 'default', namespace: '' }, spec: effectiveMeshConfig(undefined, trustDomain) }];
  }
  // Mesh-wide resources leave out the namespace, so `weftctl get -o yaml | weftctl apply -f -` works.
  return items.map(resourceDocument);
}
