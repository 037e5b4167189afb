/** What the slots need to know of each configuration, and the one without proxies. */
import type { ProcessSet } from './proc-stats';
import type { Target } from './runners';

export type ConfigName = 'direct' | 'nginx' | 'weft';
export type Protocol = 'http' | 'grpc';

/** The proxies a workload of one protocol goes through. */
export interface ProxyProcesses {
  /** The proxy next to the caller (the generator talks to it). */
  readonly client?: ProcessSet;
  /** The proxy next to the upstream. */
  readonly server?: ProcessSet;
  /** Other processes of the configuration, counted apart (Weft's control plane). */
  readonly others: readonly ProcessSet[];
}

export interface Configuration {
  readonly name: ConfigName;
  readonly label: string;
  target(protocol: Protocol): Target;
  proxies(protocol: Protocol): ProxyProcesses;
  stop(): Promise<void>;
}

/** The upstreams every configuration ends at. */
export interface Upstreams {
  readonly httpPort: number;
  readonly grpcPort: number;
}

export function direct(upstreams: Upstreams): Configuration {
  return {
    name: 'direct',
    label: 'direct',
    target: (protocol) => ({ port: protocol === 'http' ? upstreams.httpPort : upstreams.grpcPort, host: 'upstream' }),
    proxies: () => ({ others: [] }),
    stop: async () => undefined,
  };
}
