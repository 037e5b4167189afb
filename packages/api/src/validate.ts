import type { z } from 'zod';
import { API_VERSION, DEFAULT_NAMESPACE } from './constants';
import { ValidationError, type ValidationIssue } from './errors';
import { metadata as metadataSchema } from './resources/common';
import { isPolicyKind, KINDS, resourceKey, type PolicyResource } from './resources/kinds';

/** Where a document came from, so that every error can say so. */
export interface DocumentSource {
  readonly source: string;
  readonly document: number;
}

export interface SourcedDocument extends DocumentSource {
  readonly value: unknown;
}

/** Formats a zod path as `spec.rules[0].retries.attempts`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${String(seg)}` : String(seg);
  }
  return out;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/** Turns one zod issue into messages an operator can act on (zod's own wording is for developers). */
function messagesFor(issue: z.core.$ZodIssue, prefix: readonly PropertyKey[]): { path: string; message: string }[] {
  const path = [...prefix, ...issue.path];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        message: 'unknown field (check its spelling and indentation)',
      }));
    case 'invalid_type': {
      if (issue.input === undefined) return [{ path: formatPath(path), message: 'is required' }];
      const expected = issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'a mapping' : `a ${issue.expected}`;
      return [{ path: formatPath(path), message: `must be ${expected}, not ${describeType(issue.input)}` }];
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array') return [{ path: formatPath(path), message: `must have at least ${min} item${min === 1 ? '' : 's'}` }];
      if (issue.origin === 'string') return [{ path: formatPath(path), message: min <= 1 ? 'must not be empty' : `must be at least ${min} characters` }];
      return [{ path: formatPath(path), message: `must be ${issue.inclusive ? '>=' : '>'} ${min}` }];
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array') return [{ path: formatPath(path), message: `must have at most ${max} items` }];
      if (issue.origin === 'string') return [{ path: formatPath(path), message: `must be at most ${max} characters` }];
      return [{ path: formatPath(path), message: `must be ${issue.inclusive ? '<=' : '<'} ${max}` }];
    }
    case 'invalid_value':
      return [{ path: formatPath(path), message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` }];
    case 'invalid_union':
      return [{ path: formatPath(path), message: issue.message.startsWith('Invalid') ? 'does not match any allowed form' : issue.message }];
    default:
      return [{ path: formatPath(path), message: issue.message }];
  }
}

/**
 * Validates one document against its kind's schema and fills in defaults that belong to the
 * envelope (namespace). Returns the typed resource, or every issue found in it.
 */
export function validateDocument(doc: SourcedDocument): { resource: PolicyResource } | { issues: ValidationIssue[] } {
  const at = { source: doc.source, document: doc.document };
  const value = doc.value;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { issues: [{ ...at, path: '', message: `must be a mapping with apiVersion, kind, metadata and spec, not ${describeType(value)}` }] };
  }
  const obj = value as Record<string, unknown>;
  const kind = obj['kind'];
  const meta = obj['metadata'];
  const metaName = meta && typeof meta === 'object' ? (meta as Record<string, unknown>)['name'] : undefined;
  const resource = `${typeof kind === 'string' ? kind : 'resource'} ${typeof metaName === 'string' ? metaName : '(unnamed)'}`;
  const issues: ValidationIssue[] = [];
  const add = (path: string, message: string): void => {
    issues.push({ ...at, resource, path, message });
  };

  if (obj['apiVersion'] !== API_VERSION) add('apiVersion', `must be "${API_VERSION}"`);
  if (!isPolicyKind(kind)) {
    add('kind', `must be one of ${Object.keys(KINDS).join(', ')}`);
    return { issues };
  }
  for (const key of Object.keys(obj)) {
    if (!['apiVersion', 'kind', 'metadata', 'spec'].includes(key)) add(key, 'unknown field (a resource has apiVersion, kind, metadata and spec)');
  }
  const info = KINDS[kind];
  const metaResult = metadataSchema.safeParse(meta, { reportInput: true });
  if (!metaResult.success) {
    for (const i of metaResult.error.issues) for (const m of messagesFor(i, ['metadata'])) add(m.path, m.message);
  }
  const specResult = info.spec.safeParse(obj['spec'] ?? undefined, { reportInput: true });
  if (!specResult.success) {
    for (const i of specResult.error.issues) for (const m of messagesFor(i, ['spec'])) add(m.path, m.message);
  }
  if (metaResult.success) {
    if (!info.namespaced && metaResult.data.namespace !== undefined) {
      add('metadata.namespace', `${kind} is mesh-wide: remove metadata.namespace`);
    }
    if (kind === 'MeshConfig' && metaResult.data.name !== 'default') {
      add('metadata.name', 'must be "default" (there is one MeshConfig for the mesh)');
    }
  }
  if (issues.length > 0 || !metaResult.success || !specResult.success) return { issues };

  const namespace = info.namespaced ? (metaResult.data.namespace ?? DEFAULT_NAMESPACE) : '';
  const md = metaResult.data.labels
    ? { name: metaResult.data.name, namespace, labels: metaResult.data.labels }
    : { name: metaResult.data.name, namespace };
  return {
    resource: { apiVersion: API_VERSION, kind, metadata: md, spec: specResult.data } as PolicyResource,
  };
}

/**
 * A resource as an operator writes it, which `validateDocument` accepts back unchanged: mesh-wide
 * kinds carry no namespace (the typed resource holds `""` there, which is not a valid namespace).
 * What the store writes and what Admin.Get shows go through here, so both round-trip.
 */
export function resourceDocument(r: PolicyResource): PolicyResource {
  if (KINDS[r.kind].namespaced) return r;
  const { namespace: _omitted, ...metadata } = r.metadata;
  return { ...r, metadata } as unknown as PolicyResource;
}

/**
 * Validates a whole request. Either every document is valid and the typed resources are
 * returned, or a ValidationError lists every issue in every document; nothing is partial.
 */
export function validateDocuments(docs: readonly SourcedDocument[]): PolicyResource[] {
  const issues: ValidationIssue[] = [];
  const resources: PolicyResource[] = [];
  const seen = new Map<string, DocumentSource>();
  for (const doc of docs) {
    const result = validateDocument(doc);
    if ('issues' in result) {
      issues.push(...result.issues);
      continue;
    }
    const r = result.resource;
    const key = resourceKey(r.kind, r.metadata.namespace, r.metadata.name);
    const first = seen.get(key);
    if (first) {
      issues.push({
        source: doc.source,
        document: doc.document,
        resource: `${r.kind} ${r.metadata.name}`,
        path: 'metadata.name',
        message: `duplicates ${first.source}: document ${first.document} (each resource may appear once per apply)`,
      });
      continue;
    }
    seen.set(key, doc);
    resources.push(r);
  }
  if (issues.length > 0) throw new ValidationError(issues);
  return resources;
}
