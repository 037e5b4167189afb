import { DEFAULT_PORTS, DEFAULT_TRUST_DOMAIN, type Logger } from '@weft/api';
import type { OperatorCaFiles } from './ca/byo-ca';
import type { AddressVerifier } from './registry/endpoint-verify';
import type { RegistryOption } from './registry/registry-source';
import type { EtcdStoreOptions } from './store/etcd-client';

/** How to run a control plane; `main.ts` builds this from flags, tests build it directly. */
export interface ControlPlaneOptions {
  readonly dataDir: string;
  /** gRPC `HOST:PORT` (`:PORT` = every interface, port 0 = ephemeral). */
  readonly listen?: string;
  /** HTTP `HOST:PORT` for /live, /ready, /metrics. */
  readonly http?: string;
  /** Used at first start only; later starts keep the stored one. */
  readonly trustDomain?: string;
  /** How long an endpoint outlives its stream, and how long a restart waits for re-announcements. */
  readonly endpointGraceMs?: number;
  /** How long changes are gathered before a push. */
  readonly pushDebounceMs?: number;
  /** How long a push to a sidecar waits for its answer to the previous one (ANSWER_WAIT_MS); tests shorten it. */
  readonly pushAnswerWaitMs?: number;
  /** Extra DNS names or IP addresses for the serving certificate. */
  readonly sans?: readonly string[];
  /** The endpoint written into weftctl.json; defaults to `127.0.0.1:<bound gRPC port>`. */
  readonly advertise?: string;
  /** The operator's CA (root or intermediate) instead of a generated root; used at first start only. */
  readonly ca?: OperatorCaFiles;
  readonly logger?: Logger;
  /**
   * How announced addresses are checked before they are published: by default a TLS dial that
   * must meet the announcing proxy's identity; 'off' publishes them as announced (for a control
   * plane that cannot reach its workloads); tests pass a double.
   */
  readonly verifyAddress?: AddressVerifier | 'off';
  /** Where endpoints come from besides sidecar announcements (`--registry`); default: the sidecars alone. */
  readonly registry?: RegistryOption;
  /**
   * Where resources, join tokens and the CA live: the data directory (default), or etcd, shared by
   * several replicas (`docs/ha.md`).
   */
  readonly store?: EtcdStoreOptions;
}

/** The defaults, in one block. */
export const DEFAULTS = Object.freeze({
  listen: `0.0.0.0:${DEFAULT_PORTS.controlPlaneGrpc}`,
  http: `0.0.0.0:${DEFAULT_PORTS.controlPlaneHttp}`,
  trustDomain: DEFAULT_TRUST_DOMAIN,
  endpointGrace: '30s',
  pushDebounce: '100ms',
  endpointGraceMs: 30_000,
  pushDebounceMs: 100,
  /** How often a running control plane checks whether its serving certificate needs renewal. */
  servingCertCheckMs: 12 * 3_600_000,
  shutdownGraceMs: 5_000,
});

/** A running control plane, as `startControlPlane` returns it. */
export interface RunningControlPlane {
  /** The bound ports (the real ones when port 0 was asked for). */
  readonly grpcPort: number;
  readonly httpPort: number;
  /** Absolute path. */
  readonly dataDir: string;
  readonly trustDomain: string;
  /** SHA-256 of the signing root, hex: what new join tokens embed (it changes when a rotation reaches reissue). */
  readonly rootFingerprint: string;
  /** `<dataDir>/weftctl.json`. */
  readonly operatorConfigPath: string;
  /** Cancels streams, stops listening, flushes files. Safe to call more than once. */
  close(): Promise<void>;
}
