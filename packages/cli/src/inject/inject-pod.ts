import { NAME_RE } from '@weft/api';
import { INJECT } from './inject-options';
import type { JsonObject, PodFacts } from './weft-containers';

/** Why one document cannot be injected; `path` is the field at fault (`spec.template.spec.hostNetwork`). */
export class InjectRefusal {
  constructor(
    readonly code: string,
    readonly path: string,
    readonly message: string,
  ) {}
}

/** One pod template as inject sees it: the workload around it, and where it sits in the document. */
export interface PodTemplate {
  readonly workload: JsonObject;
  readonly template: JsonObject;
  /** Dotted path of the template in the document ('' for a Pod). */
  readonly at: string;
}

export function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function strings(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(asObject(value) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

function field(at: string, rest: string): string {
  return at ? `${at}.${rest}` : rest;
}

/** An annotation, from the pod template first, then the workload. */
export function annotation(pod: PodTemplate, name: string): string | undefined {
  return strings(asObject(pod.template['metadata'])?.['annotations'])[name] ?? strings(asObject(pod.workload['metadata'])?.['annotations'])[name];
}

/** A container inject put there: an init container of that name running our command. */
export function isOurs(container: unknown, name: string, command: string): boolean {
  const c = asObject(container);
  const cmd = asArray(c?.['command']);
  return c?.['name'] === name && cmd.length === 1 && cmd[0] === command;
}

const OURS = [
  { name: INJECT.proxyName, command: INJECT.proxyCommand },
  { name: INJECT.initName, command: INJECT.initCommand },
];

export function isOurContainer(container: unknown): boolean {
  return OURS.some((o) => isOurs(container, o.name, o.command));
}

/**
 * Reads what the sidecar needs from a pod template, or throws an InjectRefusal naming the field:
 * pods on the host's network (capture would rewrite the node's own rules), pods with no
 * containers, containers that take our names, and pods whose service or port cannot be told.
 */
export function podFacts(pod: PodTemplate): PodFacts {
  const spec = asObject(pod.template['spec']);
  const specAt = field(pod.at, 'spec');
  if (!spec) throw new InjectRefusal('WEFT_ERR_INJECT_NO_POD_TEMPLATE', specAt, 'no pod spec here; inject needs the pod template of the workload');
  if (spec['hostNetwork'] === true) {
    throw new InjectRefusal('WEFT_ERR_INJECT_HOST_NETWORK', `${specAt}.hostNetwork`, "a pod on the node's network cannot be injected: its capture rules would redirect the node's own traffic; run Weft on the node with systemd instead (docs/deploy.md), or drop hostNetwork");
  }
  const containers = asArray(spec['containers']);
  if (containers.length === 0) throw new InjectRefusal('WEFT_ERR_INJECT_NO_CONTAINERS', `${specAt}.containers`, 'the pod has no containers: there is no app to put a sidecar next to');
  containers.forEach((c, i) => {
    const name = asObject(c)?.['name'];
    if (OURS.some((o) => o.name === name)) {
      throw new InjectRefusal('WEFT_ERR_INJECT_NAME_TAKEN', `${specAt}.containers[${i}].name`, `the app has a container named ${String(name)}, which inject uses for its own; rename that container`);
    }
  });
  asArray(spec['initContainers']).forEach((c, i) => {
    const name = asObject(c)?.['name'];
    const ours = OURS.find((o) => o.name === name);
    if (ours && !isOurs(c, ours.name, ours.command)) {
      throw new InjectRefusal('WEFT_ERR_INJECT_NAME_TAKEN', `${specAt}.initContainers[${i}]`, `an init container named ${ours.name} is there but does not run ${ours.command}: it is not Weft's; rename it`);
    }
  });
  const ports = containers.flatMap((c) => asArray(asObject(c)?.['ports']).map(asObject))
    .filter((p) => p && typeof p['containerPort'] === 'number' && (p['protocol'] ?? 'TCP') === 'TCP')
    .map((p) => p?.['containerPort'] as number);
  const inboundPorts = [...new Set(ports)];
  const service = serviceOf(pod);
  const appPort = appPortOf(pod, inboundPorts);
  const labels = strings(asObject(pod.template['metadata'])?.['labels']);
  const { excludeInboundPorts, excludeOutboundPorts, excludeOutboundCidrs } = INJECT.annotations;
  const optional = (key: 'excludeInboundPorts' | 'excludeOutboundPorts' | 'excludeOutboundCidrs', name: string): Partial<PodFacts> => {
    const v = annotation(pod, name);
    return v ? { [key]: v } : {};
  };
  return {
    service, appPort, inboundPorts, labels,
    ...optional('excludeInboundPorts', excludeInboundPorts),
    ...optional('excludeOutboundPorts', excludeOutboundPorts),
    ...optional('excludeOutboundCidrs', excludeOutboundCidrs),
  };
}

function serviceOf(pod: PodTemplate): string {
  const fromAnnotation = annotation(pod, INJECT.annotations.service);
  const labelsOf = (o: JsonObject): Record<string, string> => strings(asObject(o['metadata'])?.['labels']);
  const t = labelsOf(pod.template);
  const w = labelsOf(pod.workload);
  const service = fromAnnotation ?? t['app.kubernetes.io/name'] ?? t['app'] ?? w['app.kubernetes.io/name'] ?? w['app'];
  const at = field(pod.at, 'metadata');
  if (service === undefined) {
    throw new InjectRefusal('WEFT_ERR_INJECT_NO_SERVICE', `${at}.labels`, `cannot tell the mesh service: give the pod a label app or app.kubernetes.io/name, or the annotation ${INJECT.annotations.service}`);
  }
  if (!NAME_RE.test(service)) {
    throw new InjectRefusal('WEFT_ERR_INJECT_NO_SERVICE', `${at}`, `service name ${JSON.stringify(service)} is not a DNS label (lower-case letters, digits, '-'); set the annotation ${INJECT.annotations.service}`);
  }
  return service;
}

function appPortOf(pod: PodTemplate, ports: readonly number[]): number {
  const text = annotation(pod, INJECT.annotations.appPort);
  if (text !== undefined) {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < 1 || n > 65535) {
      throw new InjectRefusal('WEFT_ERR_INJECT_NO_APP_PORT', `${field(pod.at, 'metadata')}.annotations`, `${INJECT.annotations.appPort} ${JSON.stringify(text)} is not a port number from 1 to 65535`);
    }
    return n;
  }
  const first = ports[0];
  if (first === undefined) {
    throw new InjectRefusal('WEFT_ERR_INJECT_NO_APP_PORT', `${field(pod.at, 'spec')}.containers`, `no TCP containerPort: declare the app's port in ports[].containerPort, or set the annotation ${INJECT.annotations.appPort}`);
  }
  return first;
}
