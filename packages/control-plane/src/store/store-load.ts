import { DEFAULT_NAMESPACE, isPolicyKind, KINDS, resourceKey, validateDocument, type PolicyKind, type PolicyResource } from '@weft/api';
import { isRecord } from '../bootstrap/data-dir';
import { ControlPlaneError } from '../errors';
import { deepFreeze } from './canonical-json';

/** The store file's format: 1 since the first release; what each older file needs is in `migrate`. */
export const STORE_FORMAT_VERSION = 1;

/**
 * Kinds whose loss on load could open the mesh: a missing DENY lets through what it refused, and
 * a missing ALLOW can leave a service with no ALLOW policy, which means "allow everyone". Without
 * a MeshConfig, Route or ServicePolicy the mesh runs on defaults that are at least as strict
 * (STRICT mTLS, TLS 1.3, no routing rules), so skipping one of those keeps the mesh manageable
 * without weakening it. A kind this build does not know may be one of a newer build's security
 * kinds, so it is refused too.
 */
const SKIPPABLE: ReadonlySet<PolicyKind> = new Set<PolicyKind>(['MeshConfig', 'Route', 'ServicePolicy']);

/** Whether a resource of `kind` that cannot be loaded may be skipped without weakening the mesh. */
export function isSkippableKind(kind: unknown): boolean {
  return isPolicyKind(kind) && SKIPPABLE.has(kind);
}

/** A stored resource this build could not load; kept verbatim in the file so nothing is lost. */
export interface UnloadedResource {
  /** 1-based position in the file's `resources`. */
  readonly index: number;
  /** `resourceKey` when kind and name could be read, so that an apply or delete replaces it. */
  readonly key: string | undefined;
  readonly raw: unknown;
  /** What is wrong and how to repair it, for the log. */
  readonly problem: string;
  readonly kind: string;
  readonly name: string;
}

export interface LoadedStore {
  readonly revision: number;
  readonly items: Map<string, PolicyResource>;
  readonly unloaded: readonly UnloadedResource[];
  /** How many resources an older format needed changing (they are written back in the new one). */
  readonly migrated: number;
}

/**
 * Reads the content of store.json. The store only writes what validated, so a resource that does
 * not validate now was written by an older build (migrated here), or edited by hand, or is one
 * this build no longer accepts: those are skipped with the repair named, when skipping is safe.
 */
export function loadStoreContent(file: string, raw: unknown): LoadedStore {
  if (!isRecord(raw) || typeof raw['revision'] !== 'number' || !Array.isArray(raw['resources'])) {
    throw new ControlPlaneError('WEFT_ERR_DATA_DIR', `${file} is not a Weft store (expected revision and resources): restore it from a backup`);
  }
  const items = new Map<string, PolicyResource>();
  const unloaded: UnloadedResource[] = [];
  let migrated = 0;
  (raw['resources'] as unknown[]).forEach((stored, i) => {
    const index = i + 1;
    const value = migrate(stored);
    if (value !== stored) migrated += 1;
    const result = validateDocument({ source: file, document: index, value });
    if ('resource' in result) {
      const r = result.resource;
      items.set(resourceKey(r.kind, r.metadata.namespace, r.metadata.name), deepFreeze(r));
      return;
    }
    const { kind, name, namespace } = identify(value);
    const what = `${kind} ${namespace ? `${namespace}/` : ''}${name ?? '(unnamed)'}`;
    const first = result.issues[0];
    const reason = `${first?.path ?? ''} ${first?.message ?? ''}`.trim();
    if (!isPolicyKind(kind) || !SKIPPABLE.has(kind)) {
      throw new ControlPlaneError(
        'WEFT_ERR_DATA_DIR',
        `${file}: resource ${index} (${what}) cannot be loaded: ${reason}. Starting without it could let through traffic it ` +
          `governs, so the control plane does not start: fix it in ${file} (resource ${index}) and start again, or remove it ` +
          `from the file and apply a corrected ${kind} with \`weftctl apply -f\` once started`,
      );
    }
    unloaded.push({
      index,
      key: name === undefined ? undefined : resourceKey(kind, KINDS[kind].namespaced ? namespace || DEFAULT_NAMESPACE : '', name),
      raw: stored,
      problem:
        `${reason}: the control plane runs without it until you fix it in ${file} (resource ${index}) and restart, ` +
        `or apply a corrected ${kind} with \`weftctl apply -f\` (which replaces it), or \`weftctl delete\` it`,
      kind,
      name: name ?? '(unnamed)',
    });
  });
  return { revision: raw['revision'] as number, items, unloaded, migrated };
}

/**
 * Brings one stored resource written by an older build to what this build writes. Returns the
 * same object when nothing needed changing.
 * - Builds before the fix wrote mesh-wide kinds with `metadata.namespace: ""` (the in-memory
 *   form), which the load check then refused: drop it.
 */
function migrate(stored: unknown): unknown {
  if (!isRecord(stored) || !isPolicyKind(stored['kind']) || KINDS[stored['kind']].namespaced) return stored;
  const metadata = stored['metadata'];
  if (!isRecord(metadata) || metadata['namespace'] !== '') return stored;
  const { namespace: _empty, ...rest } = metadata;
  return { ...stored, metadata: rest };
}

function identify(value: unknown): { kind: string; name: string | undefined; namespace: string } {
  const kind = isRecord(value) && typeof value['kind'] === 'string' ? value['kind'] : '(no kind)';
  const metadata = isRecord(value) && isRecord(value['metadata']) ? value['metadata'] : {};
  const name = typeof metadata['name'] === 'string' && metadata['name'] ? metadata['name'] : undefined;
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : '';
  return { kind, name, namespace };
}
