import { isIPv4 } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_PORTS, WeftError } from '@weft/api';
import { detectBackend, install, IptablesError, uninstall } from './iptables';
import { CHAINS, DEFAULT_DNS_PORT, DEFAULT_PLAN, JUMPS, restoreInput, type CapturePlan } from './rules';

const USAGE = `Usage: weft-init --proxy-uid UID [flags]      install the capture rules
       weft-init --uninstall                    remove them

Installs iptables rules in the workload's network namespace (run it there, as root or with
CAP_NET_ADMIN, before the app starts) so that the app's TCP goes through the Weft sidecar without
the app knowing: outbound connections to the sidecar's outbound port, inbound connections to the
app's ports to its inbound port. The rules live in the nat chains ${CHAINS.output} and ${CHAINS.prerouting},
reached from OUTPUT and PREROUTING; --uninstall removes exactly those. Installing twice is harmless.

Flags:
  --proxy-uid UID                 the sidecar's uid: its own traffic is never captured
  --proxy-gid GID                 the sidecar's gid (either or both of --proxy-uid/--proxy-gid)
  --outbound-port P               the sidecar's outbound port (default ${DEFAULT_PORTS.sidecarOutbound})
  --inbound-port P                the sidecar's inbound port (default ${DEFAULT_PORTS.sidecarInbound})
  --inbound-ports P,...|*         app ports whose inbound connections are captured (default *: all)
  --exclude-outbound-ports P,...  destination ports the app reaches directly
  --exclude-inbound-ports P,...   ports reached without the sidecar (ssh, a metrics port...)
  --exclude-outbound-cidrs C,...  destination IPv4 ranges the app reaches directly (a.b.c.d/n)
  --control-plane-port P          never captured either way (default ${DEFAULT_PORTS.controlPlaneGrpc})
  --admin-port P                  the sidecar's admin port, never captured (default ${DEFAULT_PORTS.sidecarAdmin})
  --dns                           also send the app's DNS (port 53) to the sidecar's responder;
                                  run the sidecar with --dns-port ${DEFAULT_DNS_PORT}
  --dns-port P                    where that responder listens (default ${DEFAULT_DNS_PORT})
  --uninstall                     remove the rules (and nothing else)
  --dry-run                       print what would be installed (or removed) and change nothing
  -h, --help                      show this help

Exit codes: 0 done, 1 iptables failed or is missing, 2 bad flags.
`;

/** A flag weft-init cannot run with; exit code 2. */
export class InitUsageError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_BAD_FLAG', message);
  }
}

export type InitCommand =
  | { readonly kind: 'help' }
  | { readonly kind: 'install'; readonly plan: CapturePlan; readonly dryRun: boolean }
  | { readonly kind: 'uninstall'; readonly dryRun: boolean };

const FLAGS = {
  'proxy-uid': { type: 'string' }, 'proxy-gid': { type: 'string' }, 'outbound-port': { type: 'string' }, 'inbound-port': { type: 'string' },
  'inbound-ports': { type: 'string' }, 'exclude-outbound-ports': { type: 'string' }, 'exclude-inbound-ports': { type: 'string' },
  'exclude-outbound-cidrs': { type: 'string' }, 'control-plane-port': { type: 'string' }, 'admin-port': { type: 'string' },
  dns: { type: 'boolean' }, 'dns-port': { type: 'string' }, uninstall: { type: 'boolean' }, 'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags to a command, or an InitUsageError naming the flag. */
export function parseInitFlags(argv: readonly string[]): InitCommand {
  let v: Partial<Record<keyof typeof FLAGS, string | boolean>>;
  try {
    v = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new InitUsageError((err as Error).message);
  }
  if (v.help) return { kind: 'help' };
  const dryRun = v['dry-run'] === true;
  if (v.uninstall) return { kind: 'uninstall', dryRun };
  const id = (name: 'proxy-uid' | 'proxy-gid'): number | undefined => {
    const text = v[name] as string | undefined;
    if (text === undefined) return undefined;
    if (!/^\d{1,10}$/.test(text)) throw new InitUsageError(`--${name} must be a number, got ${JSON.stringify(text)}`);
    return Number(text);
  };
  const proxyUid = id('proxy-uid');
  const proxyGid = id('proxy-gid');
  if (proxyUid === undefined && proxyGid === undefined) {
    throw new InitUsageError('--proxy-uid (or --proxy-gid) is required: the sidecar\'s own traffic must not be captured, or it would loop back to itself');
  }
  const port = (name: keyof typeof FLAGS, fallback: number): number => (v[name] === undefined ? fallback : parsePort(v[name] as string, name));
  const ports = (name: keyof typeof FLAGS): number[] => list(v[name] as string | undefined).map((p) => parsePort(p, name));
  const inboundPorts = v['inbound-ports'] === undefined || (v['inbound-ports'] as string).trim() === '*' ? '*' : ports('inbound-ports');
  if (inboundPorts !== '*' && inboundPorts.length === 0) throw new InitUsageError('--inbound-ports must list ports, or be * for all');
  const cidrs = list(v['exclude-outbound-cidrs'] as string | undefined);
  for (const cidr of cidrs) if (!isCidr(cidr)) throw new InitUsageError(`--exclude-outbound-cidrs: ${JSON.stringify(cidr)} is not an IPv4 address or a.b.c.d/n range`);
  const plan: CapturePlan = {
    ...DEFAULT_PLAN,
    proxyUid,
    proxyGid,
    outboundPort: port('outbound-port', DEFAULT_PLAN.outboundPort),
    inboundPort: port('inbound-port', DEFAULT_PLAN.inboundPort),
    inboundPorts,
    excludeOutboundPorts: ports('exclude-outbound-ports'),
    excludeInboundPorts: ports('exclude-inbound-ports'),
    excludeOutboundCidrs: cidrs,
    controlPlanePort: port('control-plane-port', DEFAULT_PLAN.controlPlanePort),
    adminPort: port('admin-port', DEFAULT_PLAN.adminPort),
    dnsPort: v.dns ? port('dns-port', DEFAULT_DNS_PORT) : undefined,
  };
  return { kind: 'install', plan, dryRun };
}

/** The weft-init command. Exits the process: 0 done, 1 iptables failed, 2 bad flags. */
export function initMain(argv: readonly string[]): void {
  let command: InitCommand;
  try {
    command = parseInitFlags(argv);
  } catch (err) {
    process.stderr.write(`weft-init: ${(err as Error).message}\nRun weft-init --help for the flags.\n`);
    process.exit(2);
  }
  if (command.kind === 'help') {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (command.dryRun) {
    process.stdout.write(command.kind === 'install' ? restoreInput(command.plan, JUMPS) : dryUninstall());
    process.exit(0);
  }
  try {
    const backend = detectBackend();
    process.stdout.write(`weft-init: iptables backend ${backend.name} (${backend.version})\n`);
    if (command.kind === 'install') {
      const input = install(backend, command.plan);
      process.stdout.write(`weft-init: capture rules installed in ${CHAINS.output} and ${CHAINS.prerouting} (nat):\n${input}`);
    } else {
      const removed = uninstall(backend);
      process.stdout.write(removed === 0 ? 'weft-init: no capture rules were installed; nothing to remove\n' : `weft-init: capture rules removed (${CHAINS.output}, ${CHAINS.prerouting} and the jumps to them)\n`);
    }
    process.exit(0);
  } catch (err) {
    const code = err instanceof IptablesError ? err.code : 'WEFT_ERR_IPTABLES';
    process.stderr.write(`weft-init: ${code}: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

function dryUninstall(): string {
  return [
    ...JUMPS.map((j) => `iptables -t nat -D ${j.chain} ${j.spec.join(' ')}`),
    ...Object.values(CHAINS).flatMap((c) => [`iptables -t nat -F ${c}`, `iptables -t nat -X ${c}`]),
    '',
  ].join('\n');
}

function list(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function parsePort(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535) throw new InitUsageError(`--${flag}: ports are numbers from 1 to 65535, got ${JSON.stringify(text)}`);
  return n;
}

function isCidr(text: string): boolean {
  const [address, bits, ...rest] = text.split('/');
  if (rest.length > 0 || address === undefined || !isIPv4(address)) return false;
  return bits === undefined || (/^\d{1,2}$/.test(bits) && Number(bits) <= 32);
}
