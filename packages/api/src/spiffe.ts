import { CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE } from './constants';

/** A workload identity: `spiffe://<trustDomain>/ns/<namespace>/sa/<service>`. */
export interface WorkloadIdentity {
  readonly trustDomain: string;
  readonly namespace: string;
  readonly service: string;
}

const SPIFFE_RE = /^spiffe:\/\/([a-z0-9.\-_]+)\/ns\/([a-z0-9][a-z0-9-]*)\/sa\/([a-z0-9][a-z0-9\-.]*)$/;

export function spiffeId(id: WorkloadIdentity): string {
  return `spiffe://${id.trustDomain}/ns/${id.namespace}/sa/${id.service}`;
}

/** The control plane's SPIFFE ID in `trustDomain`: what its serving certificate holds and every client checks for. */
export function controlPlaneSpiffeId(trustDomain: string): string {
  return spiffeId({ trustDomain, namespace: CONTROL_PLANE_NAMESPACE, service: CONTROL_PLANE_SERVICE });
}

export function parseSpiffeId(uri: string): WorkloadIdentity | undefined {
  const m = SPIFFE_RE.exec(uri);
  if (!m) return undefined;
  return { trustDomain: m[1] as string, namespace: m[2] as string, service: m[3] as string };
}

/** DNS-label rules, as Kubernetes uses for names; services and namespaces follow them. */
export const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
