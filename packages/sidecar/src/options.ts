import { DEFAULT_NAMESPACE, DEFAULT_PORTS, type Logger } from '@weft/api';
import type { CompileFn } from './control/control-client';
import type { BackoffOptions } from './control/backoff';
import type { AppProtocol } from './inbound/local-app';
import type { InboundOptions } from './inbound/server';
import { LISTENER_LIMITS } from './listen/mux-listener';
import type { ProxyListener } from './listener';
import type { NativeMemory } from './memory/native-memory';
import type { Http1Upstream } from './outbound/endpoint/upstream';
import type { OutboundOptions } from './outbound/server';
import type { TcpForward } from './outbound/tcp-forward';
import type { OtlpClientSettings } from './telemetry/otlp-client';

/**
 * Every default of a sidecar, in one block: the flags' help text, parseFlags and startSidecar all
 * read them from here, so an embedder that leaves an option out gets what the command line gets.
 */
export const SIDECAR_DEFAULTS = Object.freeze({
  namespace: DEFAULT_NAMESPACE,
  appHost: '127.0.0.1',
  outboundPort: DEFAULT_PORTS.sidecarOutbound,
  inboundPort: DEFAULT_PORTS.sidecarInbound,
  adminPort: DEFAULT_PORTS.sidecarAdmin,
  /** The app's ports (outbound, --tcp-forward, --dns-port) are for this host only; not a flag. */
  bindAppFacing: '127.0.0.1',
  bindInbound: '0.0.0.0',
  bindAdmin: '0.0.0.0',
  /** The inbound host announced to the mesh when --advertise-address does not say. */
  advertiseHost: '127.0.0.1',
  drainTimeoutMs: 10_000,
  drainQuietMs: 1_000,
  bodyIdleTimeoutMs: LISTENER_LIMITS.bodyIdleTimeoutMs,
  consulCheckIntervalMs: 10_000,
  /**
   * Idle time after which a sidecar gives back the memory load made it take, once per idle period
   * (memory/idle-release.ts). Long enough that a service called every few seconds does not pay a
   * full collection (27-91 ms, which a request arriving meanwhile waits for) for each call; short
   * enough that an idle sidecar sheds its peak before V8's own memory reducer would, if it does.
   */
  memoryReleaseIdleMs: 30_000,
  /** How long a draining sidecar waits for callers to learn it is gone; an override only. */
  announceMs: 1_000,
});

/** How to run a sidecar: `flags.ts` builds this from the command line, embedders and tests build it directly. */
export interface SidecarOptions {
  readonly service: string;
  readonly namespace?: string;
  readonly appPort: number;
  readonly appHost?: string;
  /** What the app speaks: http1 (default), h2c (gRPC servers) or tcp. */
  readonly appProtocol?: AppProtocol;
  /** How the app's HTTP/1.1 requests travel to peer sidecars (default: pooled HTTP/1.1). */
  readonly http1Upstream?: Http1Upstream;
  /** Local TCP ports whose connections go to a service (`--tcp-forward`). */
  readonly tcpForwards?: readonly TcpForward[];
  /** Serve DNS for mesh names on 127.0.0.1:dnsPort (see capture/dns-server.ts); undefined: none. */
  readonly dnsPort?: number;
  /** The control plane's gRPC address, HOST:PORT, or several replicas' (HOST:PORT,HOST:PORT), tried in turn. */
  readonly controlPlane: string;
  /** The join token text (`weft1....`). */
  readonly token: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** 0 picks a free port; `ports` on the result says which. Defaults for these: SIDECAR_DEFAULTS. */
  readonly inboundPort?: number;
  readonly outboundPort?: number;
  readonly adminPort?: number;
  readonly bindInbound?: string;
  readonly bindAdmin?: string;
  /** Serve /config to callers not on loopback too (default: loopback only). */
  readonly adminRemoteConfig?: boolean;
  /** Inbound address other sidecars use: HOST:PORT, or HOST alone for HOST:<inbound port>. Defaults to 127.0.0.1:<inbound port>. */
  readonly advertiseAddress?: string;
  readonly drainTimeoutMs?: number;
  /** How long a request body may stall before its exchange is cut (`--body-idle-timeout`); default LISTENER_LIMITS. */
  readonly bodyIdleTimeoutMs?: number;
  /** On SIGTERM the app's ports stay open until the app made no call for this long (default SIDECAR_DEFAULTS.drainQuietMs). */
  readonly drainQuietMs?: number;
  /** Idle time after which memory is given back (`--memory-release-idle`); 0 never. Default SIDECAR_DEFAULTS.memoryReleaseIdleMs. */
  readonly memoryReleaseIdleMs?: number;
  readonly logger?: Logger;
  /** Aborting cancels start-up (SIGTERM while still waiting for the control plane). */
  readonly signal?: AbortSignal;
  readonly overrides?: SidecarOverrides;
  /** Register this instance in Consul once ready, deregister on drain (`--consul-register`). */
  readonly consulRegister?: ConsulRegisterOptions;
  /** TLS and headers for span export, from files on this host (`--otlp-*-file`); never in /config. */
  readonly otlpClient?: OtlpClientSettings;
}

export interface ConsulRegisterOptions {
  /** A Consul agent's HTTP API, HOST:PORT. */
  readonly address: string;
  readonly token?: string;
  /** How often Consul polls the admin /ready (default 10 s). */
  readonly checkIntervalMs?: number;
}

/**
 * Seams for tests and embedding; deliberately not reachable from the command line. Lets a test run
 * the control side with stand-in listeners or a stand-in compiler, and with short timings.
 */
export interface SidecarOverrides {
  readonly compile?: CompileFn;
  readonly startOutbound?: (options: OutboundOptions) => Promise<ProxyListener>;
  readonly startInbound?: (options: InboundOptions) => Promise<ProxyListener>;
  readonly bootBackoff?: BackoffOptions;
  readonly reconnectBackoff?: BackoffOptions;
  readonly renewBackoff?: BackoffOptions;
  /** How long a draining sidecar waits for callers to learn it is gone (default 1 s). */
  readonly announceMs?: number;
  /** The native memory calls (a test gives one loaded from a path where no addon is). */
  readonly nativeMemory?: NativeMemory;
}
