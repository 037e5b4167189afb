/** Command lines of the processes a Mesh starts, kept apart from the lifecycle code. */

export interface SidecarOptions {
  readonly service: string;
  readonly namespace?: string;
  readonly appPort: number;
  readonly labels?: Readonly<Record<string, string>>;
  readonly token: string;
  /** host:port of the control plane's gRPC server. */
  readonly controlPlane: string;
  /** 0 (the default) lets the sidecar pick; set one when the app must know it in advance. */
  readonly outboundPort?: number;
  /** 0 (the default) lets the sidecar pick; set one to restart an instance where callers knew it. */
  readonly inboundPort?: number;
  readonly extraArgs?: readonly string[];
  readonly readyTimeoutMs?: number;
  /** Added to the sidecar's environment (the benchmark's profiler passes NODE_OPTIONS here). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The sidecar program to run instead of this checkout's `bin/weft-sidecar.js`: another build's
   * (`bench:floor --against DIR` runs two builds side by side in one run).
   */
  readonly script?: string;
}

export interface AppOptions {
  readonly name: string;
  /** 0 (the default) lets the app pick. */
  readonly port?: number;
  readonly version?: string;
  /** Services it calls, through its sidecar, for each request it serves. */
  readonly call?: readonly string[];
  readonly failFirst?: number;
  readonly failRate?: number;
  /** Its sidecar's outbound port, passed as WEFT_OUTBOUND_PORT; required when `call` is set. */
  readonly outboundPort?: number;
}

export function sidecarArgs(options: SidecarOptions, tokenFile: string): string[] {
  // prettier-ignore
  const args = [
    '--service', options.service, '--namespace', options.namespace ?? 'default',
    '--app-port', String(options.appPort), '--control-plane', options.controlPlane, '--token-file', tokenFile,
    '--outbound-port', String(options.outboundPort ?? 0), '--inbound-port', String(options.inboundPort ?? 0), '--admin-port', '0',
    // Loopback only: a test or demo must not open ports to the network.
    '--bind-inbound', '127.0.0.1', '--bind-admin', '127.0.0.1',
  ];
  const labels = Object.entries(options.labels ?? {});
  if (labels.length > 0) args.push('--labels', labels.map(([k, v]) => `${k}=${v}`).join(','));
  return [...args, ...(options.extraArgs ?? [])];
}

export function sampleServiceArgs(options: AppOptions): string[] {
  const args = ['--name', options.name, '--port', String(options.port ?? 0)];
  if (options.version) args.push('--version', options.version);
  if (options.call && options.call.length > 0) args.push('--call', options.call.join(','));
  if (options.failFirst) args.push('--fail-first', String(options.failFirst));
  if (options.failRate) args.push('--fail-rate', String(options.failRate));
  return args;
}

/** Reads a port out of a ready line, or explains what the line lacked. */
export function portFrom(entry: Readonly<Record<string, unknown>>, field: string, who: string): number {
  const value = entry[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new Error(`${who}'s ready line has no valid ${field}: ${JSON.stringify(entry)}`);
  }
  return value;
}
