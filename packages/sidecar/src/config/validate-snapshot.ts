import {
  API_VERSION,
  effectiveMeshConfig,
  formatIssue,
  validateDocument,
  type AuthorizationPolicy,
  type EffectiveMeshConfig,
  type MeshConfigSpec,
  type Route,
  type ServicePolicy,
  type Snapshot,
  type ValidationIssue,
} from '@weft/api';
import { ConfigCompileError } from './errors';

/** Where issues say a resource came from: the NACK names the control plane, not a file. */
const SOURCE = 'control-plane';

export interface ValidatedSnapshot {
  readonly mesh: EffectiveMeshConfig;
  readonly routes: readonly Route[];
  readonly servicePolicies: readonly ServicePolicy[];
  readonly authorizationPolicies: readonly AuthorizationPolicy[];
}

/**
 * Re-validates every resource body with the same schemas the admin API used. The control plane
 * validated them already; a sidecar checks again because it may run a different version, and a
 * resource it cannot read must be refused as a whole (NACK) rather than half-applied.
 * Every issue of every resource is reported at once.
 */
export function validateSnapshot(snapshot: Snapshot, trustDomain: string): ValidatedSnapshot {
  const issues: ValidationIssue[] = [];
  const mesh = validateMesh(snapshot.meshConfigJson, issues);
  const routes: Route[] = [];
  const servicePolicies: ServicePolicy[] = [];
  const authorizationPolicies: AuthorizationPolicy[] = [];
  snapshot.resources.forEach((wire, i) => {
    const document = i + 1;
    const resource = `${wire.kind} ${wire.name}`;
    const value = parseJson(wire.json, { source: SOURCE, document, resource, path: '' }, issues);
    if (value === undefined) return;
    const result = validateDocument({ source: SOURCE, document, value });
    if ('issues' in result) {
      issues.push(...result.issues);
      return;
    }
    const r = result.resource;
    if (r.kind !== wire.kind || r.metadata.name !== wire.name || r.metadata.namespace !== wire.namespace) {
      issues.push({
        source: SOURCE,
        document,
        resource,
        path: '',
        message: `the body is ${r.kind} ${r.metadata.namespace}/${r.metadata.name} but the envelope says ${wire.kind} ${wire.namespace}/${wire.name}`,
      });
      return;
    }
    if (r.kind === 'Route') routes.push(r);
    else if (r.kind === 'ServicePolicy') servicePolicies.push(r);
    else if (r.kind === 'AuthorizationPolicy') authorizationPolicies.push(r);
    else issues.push({ source: SOURCE, document, resource, path: 'kind', message: 'MeshConfig travels in mesh_config_json, not as a resource' });
  });
  if (issues.length > 0) throw new ConfigCompileError(issues.map(formatIssue).join('\n'));
  return { mesh: effectiveMeshConfig(mesh, trustDomain), routes, servicePolicies, authorizationPolicies };
}

/** `mesh_config_json` carries the MeshConfig spec only; it is validated as the full resource would be. */
function validateMesh(json: string, issues: ValidationIssue[]): MeshConfigSpec | undefined {
  const at = { source: SOURCE, document: 0, resource: 'MeshConfig default', path: 'spec' };
  if (json.trim() === '') return undefined;
  const spec = parseJson(json, at, issues);
  if (spec === undefined) return undefined;
  const result = validateDocument({
    source: SOURCE,
    document: 0,
    value: { apiVersion: API_VERSION, kind: 'MeshConfig', metadata: { name: 'default' }, spec },
  });
  if ('issues' in result) {
    issues.push(...result.issues);
    return undefined;
  }
  return result.resource.kind === 'MeshConfig' ? result.resource.spec : undefined;
}

function parseJson(json: string, at: Omit<ValidationIssue, 'message'>, issues: ValidationIssue[]): unknown {
  try {
    const value: unknown = JSON.parse(json);
    return value ?? undefined;
  } catch (err) {
    issues.push({ ...at, message: `is not valid JSON: ${(err as Error).message}` });
    return undefined;
  }
}
