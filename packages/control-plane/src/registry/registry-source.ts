import { readFile } from 'node:fs/promises';
import type { Logger, RegistryStatus } from '@weft/api';
import { ControlPlaneError } from '../errors';
import { parseHostPort } from '@weft/api';
import { ConsulCatalog } from './consul/consul-catalog';
import type { BlockingQueryTiming } from './consul/consul-blocking-query';
import { ConsulClient } from './consul/consul-client';
import { meshEndpoint, mergeConsul } from './consul/consul-endpoints';
import type { Registry } from './registry';
import type { ServiceSource } from './registry-wire';

/** `--registry`: where endpoints come from besides the sidecars' own announcements. */
export type RegistryOption =
  | { readonly kind: 'sidecars' }
  | {
      readonly kind: 'consul';
      /** HOST:PORT of a Consul agent's HTTP API. */
      readonly address: string;
      readonly tokenFile?: string;
      readonly datacenter?: string;
      /** Tests shorten the blocking-query loop's timings. */
      readonly timing?: Partial<BlockingQueryTiming>;
    };

/** The endpoints callers get, where they come from, and how that source is doing. */
export interface RegistrySource extends ServiceSource {
  subscribe(listener: () => void): () => void;
  /** Unset for the sidecars alone (nothing external to be down). */
  status(): RegistryStatus | undefined;
  close(): Promise<void>;
}

/**
 * The registry alone (`--registry sidecars`, the default), or merged with Consul's catalog
 * (`--registry consul`). Consul is read in the background: the control plane is ready and serves
 * announced endpoints whether or not Consul answers.
 */
export async function openRegistrySource(option: RegistryOption | undefined, registry: Registry, log: Logger): Promise<RegistrySource> {
  if (!option || option.kind === 'sidecars') {
    return { services: (o) => registry.services(o), subscribe: (l) => registry.subscribe(l), status: () => undefined, close: async () => undefined };
  }
  const at = parseHostPort(option.address);
  if (!at) throw new ControlPlaneError('WEFT_ERR_BAD_FLAG', `--consul-addr ${JSON.stringify(option.address)} is not HOST:PORT (for example 127.0.0.1:8500)`);
  const token = option.tokenFile ? await readToken(option.tokenFile) : undefined;
  const client = new ConsulClient({ host: at.host, port: at.port, ...(token ? { token } : {}), ...(option.datacenter ? { datacenter: option.datacenter } : {}) });
  const catalog = new ConsulCatalog({ client, log, ...(option.timing ? { timing: option.timing } : {}) });
  catalog.start();
  log.info('following Consul\'s catalog', { consul: client.address, datacenter: option.datacenter ?? '(the agent\'s)' });
  return {
    services: (o = {}) => mergeConsul(registry.services(o), new Set(registry.endpoints().map((e) => e.proxyId)), catalog.instances(), o),
    subscribe: (listener) => {
      const offs = [registry.subscribe(listener), catalog.subscribe(listener)];
      return () => offs.forEach((off) => off());
    },
    status: () => {
      const health = catalog.health();
      let mesh = 0;
      let other = 0;
      for (const entries of catalog.instances().values()) {
        for (const e of entries) {
          if (meshEndpoint(e)) mesh += 1;
          else other += 1;
        }
      }
      return { source: 'consul', address: client.address, ...health, meshInstances: mesh, otherInstances: other };
    },
    close: async () => {
      await catalog.close();
      client.close();
    },
  };
}

async function readToken(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (err) {
    throw new ControlPlaneError('WEFT_ERR_BAD_FLAG', `--consul-token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}: give a readable file holding the Consul ACL token`);
  }
}
