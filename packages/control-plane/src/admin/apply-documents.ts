import { ValidationError, validateDocuments, type PolicyResource, type SourceDocument, type SourcedDocument, type ValidationIssue } from '@weft/api';
import { ControlPlaneError } from '../errors';

/**
 * Turns an Apply request into validated resources, or throws one ValidationError naming every
 * problem in every document (file, document, resource, field). Nothing is partial: one bad
 * document rejects the request.
 */
export function resourcesFromDocuments(documents: readonly SourceDocument[], trustDomain: string): PolicyResource[] {
  if (documents.length === 0) throw new ControlPlaneError('WEFT_ERR_INVALID_ARGUMENT', 'the apply request holds no documents');
  const issues: ValidationIssue[] = [];
  const sourced: SourcedDocument[] = [];
  documents.forEach((doc, i) => {
    const at = { source: doc.source || 'request', document: doc.index > 0 ? doc.index : i + 1 };
    let value: unknown;
    try {
      value = JSON.parse(doc.json);
    } catch (err) {
      issues.push({ ...at, path: '', message: `is not valid JSON: ${(err as Error).message}` });
      return;
    }
    const fixed = trustDomainIssue(value, trustDomain);
    if (fixed) issues.push({ ...at, ...fixed });
    sourced.push({ ...at, value });
  });
  let resources: PolicyResource[] = [];
  try {
    resources = validateDocuments(sourced);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    issues.push(...err.issues);
  }
  if (issues.length > 0) throw new ValidationError(inRequestOrder(issues, documents));
  return resources;
}

/** The trust domain is in every certificate the mesh has issued, so a MeshConfig cannot move it. */
function trustDomainIssue(value: unknown, trustDomain: string): Omit<ValidationIssue, 'source' | 'document'> | undefined {
  if (!isObject(value) || value['kind'] !== 'MeshConfig' || !isObject(value['spec'])) return undefined;
  const requested = value['spec']['trustDomain'];
  if (requested === undefined || requested === trustDomain) return undefined;
  const name = isObject(value['metadata']) && typeof value['metadata']['name'] === 'string' ? value['metadata']['name'] : '(unnamed)';
  return {
    resource: `MeshConfig ${name}`,
    path: 'spec.trustDomain',
    message: `is ${JSON.stringify(requested)}, but this mesh's trust domain is "${trustDomain}": it is fixed at the control plane's first start (every certificate names it), so remove the field or set it to "${trustDomain}"`,
  };
}

function inRequestOrder(issues: readonly ValidationIssue[], documents: readonly SourceDocument[]): ValidationIssue[] {
  const position = new Map<string, number>();
  documents.forEach((d, i) => position.set(`${d.source || 'request'}\u0000${d.index > 0 ? d.index : i + 1}`, i));
  const pos = (x: ValidationIssue): number => position.get(`${x.source}\u0000${x.document}`) ?? Number.MAX_SAFE_INTEGER;
  return issues.map((issue, i) => ({ issue, i })).sort((a, b) => pos(a.issue) - pos(b.issue) || a.i - b.i).map((x) => x.issue);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
