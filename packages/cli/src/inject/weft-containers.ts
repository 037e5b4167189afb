import { DEFAULT_PORTS } from '@weft/api';
import { INJECT, type InjectOptions } from './inject-options';

/** What inject learned about one pod template (inject-pod.ts reads it from the manifest). */
export interface PodFacts {
  /** The mesh service: annotation weft.io/service, else label app.kubernetes.io/name or app. */
  readonly service: string;
  /** Where the sidecar forwards inbound requests: weft.io/app-port, else the first containerPort. */
  readonly appPort: number;
  /** Every TCP containerPort of the app's containers: inbound traffic to these is captured. */
  readonly inboundPorts: readonly number[];
  /** The pod's labels, announced to the mesh (subsets select on them). */
  readonly labels: Readonly<Record<string, string>>;
  readonly excludeInboundPorts?: string;
  readonly excludeOutboundPorts?: string;
  readonly excludeOutboundCidrs?: string;
}

export type JsonObject = { [key: string]: unknown };

/** The token Secret's name for this service. */
export function tokenSecretName(options: InjectOptions, service: string): string {
  return options.tokenSecret.replaceAll('{service}', service);
}

/**
 * The capture step: installs iptables rules in the pod's network namespace, then exits. It runs
 * as root with NET_ADMIN and NET_RAW only; its root filesystem stays writable because iptables
 * takes its lock in /run/xtables.lock.
 */
export function initContainer(facts: PodFacts, options: InjectOptions): JsonObject {
  const uid = String(options.proxyUid);
  const cpPort = options.controlPlane.slice(options.controlPlane.lastIndexOf(':') + 1);
  const excludes: [string, string | undefined][] = [
    ['--exclude-inbound-ports', facts.excludeInboundPorts],
    ['--exclude-outbound-ports', facts.excludeOutboundPorts],
    ['--exclude-outbound-cidrs', facts.excludeOutboundCidrs],
  ];
  return {
    name: INJECT.initName,
    image: options.image,
    command: [INJECT.initCommand],
    args: [
      '--proxy-uid', uid, '--proxy-gid', uid,
      '--outbound-port', String(DEFAULT_PORTS.sidecarOutbound),
      '--inbound-port', String(DEFAULT_PORTS.sidecarInbound),
      '--inbound-ports', facts.inboundPorts.length > 0 ? facts.inboundPorts.join(',') : String(facts.appPort),
      '--control-plane-port', cpPort,
      ...excludes.flatMap(([flag, value]) => (value ? [flag, value] : [])),
      ...(options.dns ? ['--dns'] : []),
    ],
    securityContext: {
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
    },
    resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
  };
}

/**
 * The sidecar as a native sidecar (an init container with restartPolicy Always, Kubernetes >=
 * 1.29): the app's containers start once its startupProbe passes (/ready: certificate, first
 * config, listeners up), and on termination the kubelet stops it after the app's containers.
 */
export function proxyContainer(facts: PodFacts, options: InjectOptions): JsonObject {
  const uid = options.proxyUid;
  const labels = Object.entries(facts.labels).map(([k, v]) => `${k}=${v}`).join(',');
  const secret = tokenSecretName(options, facts.service);
  const admin = DEFAULT_PORTS.sidecarAdmin;
  const probe = (path: string, periodSeconds: number, failureThreshold: number): JsonObject => ({
    httpGet: { path, port: admin }, periodSeconds, failureThreshold,
  });
  return {
    name: INJECT.proxyName,
    image: options.image,
    restartPolicy: 'Always',
    command: [INJECT.proxyCommand],
    args: [
      '--service', facts.service,
      '--namespace', '$(POD_NAMESPACE)',
      '--app-port', String(facts.appPort),
      '--control-plane', options.controlPlane,
      '--advertise-address', '$(POD_IP)',
      ...(labels ? ['--labels', labels] : []),
      // weft-init --dns sends the app's DNS to this port; the responder only runs when asked.
      ...(options.dns ? ['--dns-port', String(DEFAULT_PORTS.sidecarDns)] : []),
      ...(options.tokenAsFile ? ['--token-file', `${INJECT.tokenDir}/token`] : []),
    ],
    env: [
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ...(options.tokenAsFile ? [] : [{ name: 'WEFT_TOKEN', valueFrom: { secretKeyRef: { name: secret, key: 'token' } } }]),
    ],
    ports: [
      { name: 'weft-inbound', containerPort: DEFAULT_PORTS.sidecarInbound },
      { name: 'weft-admin', containerPort: admin },
    ],
    startupProbe: probe('/ready', 1, 120),
    readinessProbe: probe('/ready', 5, 2),
    livenessProbe: probe('/live', 10, 3),
    securityContext: {
      runAsUser: uid,
      runAsGroup: uid,
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } },
    ...(options.tokenAsFile ? { volumeMounts: [{ name: INJECT.tokenVolume, mountPath: INJECT.tokenDir, readOnly: true }] } : {}),
  };
}

/** The token Secret as a volume, for --token-file. */
export function tokenVolume(facts: PodFacts, options: InjectOptions): JsonObject {
  return { name: INJECT.tokenVolume, secret: { secretName: tokenSecretName(options, facts.service) } };
}
