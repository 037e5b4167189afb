/** What the bench parent and its worker processes say to each other over IPC (child_process.fork). */

/** One simulated sidecar, as the parent assigns it to a worker. */
export interface SimSpec {
  readonly proxyId: string;
  readonly service: string;
  readonly namespace: string;
  /** A join token for its service (one per service, unlimited uses, so N sidecars need S tokens). */
  readonly token: string;
  /** The advertised inbound address (nothing listens there: the control plane runs with --endpoint-verification off). */
  readonly address: string;
}

export interface InitParams {
  readonly target: string;
  readonly rootFingerprint: string;
  readonly sims: readonly SimSpec[];
  /** Identity.Sign calls in flight at once per worker. */
  readonly signConcurrency: number;
}

/** Parent -> worker. Every request has an id; the worker answers each with a Reply of that id. */
export type Request =
  | { readonly id: number; readonly op: 'init'; readonly params: InitParams }
  | { readonly id: number; readonly op: 'sign' }
  | { readonly id: number; readonly op: 'connect'; readonly perSecond: number }
  | { readonly id: number; readonly op: 'activity' }
  | { readonly id: number; readonly op: 'await-revision'; readonly revision: number; readonly timeoutMs: number }
  | { readonly id: number; readonly op: 'mark-reconnect' }
  | { readonly id: number; readonly op: 'await-reconnect'; readonly timeoutMs: number }
  | { readonly id: number; readonly op: 'stop' };

export type Op = Request['op'];

/** Worker -> parent. Times are epoch milliseconds with sub-millisecond precision (a clock shared by the processes). */
export type Reply = { readonly id: number; readonly ok: true; readonly value: unknown } | { readonly id: number; readonly ok: false; readonly error: string };

export interface SignResult {
  readonly firstSentAt: number;
  readonly lastDoneAt: number;
  readonly failures: readonly string[];
}

export interface Activity {
  /** When the latest ACK was sent, by any of the worker's sidecars (0: none yet). */
  readonly lastAckAt: number;
  readonly acks: number;
  readonly connected: number;
  readonly snapshotBytes: number;
  /** Snapshot bytes received by all of the worker's sidecars so far (whole and delta). */
  readonly bytesReceived: number;
  /** Streams lost so far, by reason (status and details). */
  readonly lost: Readonly<Record<string, number>>;
}
