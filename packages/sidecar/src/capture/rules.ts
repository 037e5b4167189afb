import { DEFAULT_PORTS } from '@weft/api';

/** What `weft-init` captures; every field is a flag (see init-main.ts). */
export interface CapturePlan {
  /** The sidecar's uid and/or gid: its own connections are never captured (no loop). */
  readonly proxyUid: number | undefined;
  readonly proxyGid: number | undefined;
  readonly outboundPort: number;
  readonly inboundPort: number;
  /** App ports whose inbound connections go to the sidecar; '*' for every port. */
  readonly inboundPorts: readonly number[] | '*';
  readonly excludeOutboundPorts: readonly number[];
  readonly excludeInboundPorts: readonly number[];
  readonly excludeOutboundCidrs: readonly string[];
  /** The control plane's port: never captured either way. */
  readonly controlPlanePort: number;
  /** The sidecar's admin port: probes and Prometheus reach it directly. */
  readonly adminPort: number;
  /** Where DNS (port 53, UDP and TCP) from the app goes; undefined: DNS is not captured. */
  readonly dnsPort: number | undefined;
}

export const DEFAULT_DNS_PORT = DEFAULT_PORTS.sidecarDns;

/** Every chain weft-init owns, in the nat table. Uninstall removes these and the jumps to them. */
export const CHAINS = Object.freeze({ output: 'WEFT_OUTPUT', prerouting: 'WEFT_PREROUTING' });

/** A rule in a built-in chain that sends packets to one of ours. */
export interface Jump {
  readonly chain: 'OUTPUT' | 'PREROUTING';
  readonly spec: readonly string[];
}

export const JUMPS: readonly Jump[] = Object.freeze([
  { chain: 'OUTPUT', spec: ['-j', CHAINS.output] },
  { chain: 'PREROUTING', spec: ['-p', 'tcp', '-j', CHAINS.prerouting] },
]);

export const DEFAULT_PLAN: Omit<CapturePlan, 'proxyUid' | 'proxyGid'> = Object.freeze({
  outboundPort: DEFAULT_PORTS.sidecarOutbound,
  inboundPort: DEFAULT_PORTS.sidecarInbound,
  inboundPorts: '*',
  excludeOutboundPorts: [],
  excludeInboundPorts: [],
  excludeOutboundCidrs: [],
  controlPlanePort: DEFAULT_PORTS.controlPlaneGrpc,
  adminPort: DEFAULT_PORTS.sidecarAdmin,
  dnsPort: undefined,
});

/**
 * The rules of our two chains, in order, as `iptables-restore` lines (the jumps from the built-in
 * chains are added one by one, only when missing, so a second install adds nothing).
 *
 * WEFT_OUTPUT (everything the workload sends): the sidecar's own traffic leaves as is; DNS goes to
 * the sidecar's responder when asked; other non-TCP, loopback, the control plane's port and the
 * excluded ports and CIDRs leave as is; the rest of TCP goes to the outbound port.
 * WEFT_PREROUTING (TCP arriving from outside): the sidecar's inbound and admin ports, the control
 * plane's port and excluded ports are left alone; the app's ports go to the inbound port.
 */
export function chainRules(plan: CapturePlan): string[] {
  const out = CHAINS.output;
  const pre = CHAINS.prerouting;
  const lines: string[] = [];
  if (plan.proxyUid !== undefined) lines.push(`-A ${out} -m owner --uid-owner ${plan.proxyUid} -j RETURN`);
  if (plan.proxyGid !== undefined) lines.push(`-A ${out} -m owner --gid-owner ${plan.proxyGid} -j RETURN`);
  if (plan.dnsPort !== undefined) {
    for (const proto of ['udp', 'tcp']) lines.push(`-A ${out} -p ${proto} --dport 53 -j REDIRECT --to-ports ${plan.dnsPort}`);
  }
  lines.push(`-A ${out} ! -p tcp -j RETURN`);
  lines.push(`-A ${out} -o lo -j RETURN`);
  lines.push(`-A ${out} -d 127.0.0.0/8 -j RETURN`);
  for (const port of unique([plan.controlPlanePort, ...plan.excludeOutboundPorts])) lines.push(`-A ${out} -p tcp --dport ${port} -j RETURN`);
  for (const cidr of unique(plan.excludeOutboundCidrs)) lines.push(`-A ${out} -d ${cidr} -j RETURN`);
  lines.push(`-A ${out} -p tcp -j REDIRECT --to-ports ${plan.outboundPort}`);

  for (const port of unique([plan.inboundPort, plan.adminPort, plan.controlPlanePort, ...plan.excludeInboundPorts])) {
    lines.push(`-A ${pre} -p tcp --dport ${port} -j RETURN`);
  }
  if (plan.inboundPorts === '*') lines.push(`-A ${pre} -p tcp -j REDIRECT --to-ports ${plan.inboundPort}`);
  else for (const port of unique(plan.inboundPorts)) lines.push(`-A ${pre} -p tcp --dport ${port} -j REDIRECT --to-ports ${plan.inboundPort}`);
  return lines;
}

/**
 * The `iptables-restore --noflush` input that installs our chains: declaring a chain creates it,
 * or empties it when it exists, so the install is atomic and a second one replaces the first.
 */
export function restoreInput(plan: CapturePlan, missingJumps: readonly Jump[]): string {
  return [
    '*nat',
    `:${CHAINS.output} - [0:0]`,
    `:${CHAINS.prerouting} - [0:0]`,
    ...chainRules(plan),
    ...missingJumps.map((j) => `-A ${j.chain} ${j.spec.join(' ')}`),
    'COMMIT',
    '',
  ].join('\n');
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
