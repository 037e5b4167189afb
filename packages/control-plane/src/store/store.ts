import type { PolicyKind, PolicyResource } from '@weft/api';

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface AppliedResult {
  readonly kind: PolicyKind;
  readonly namespace: string;
  readonly name: string;
  readonly action: ApplyAction;
}

export interface ApplyOutcome {
  /** The revision after the apply; unchanged when nothing changed or on a dry run. */
  readonly revision: number;
  readonly results: readonly AppliedResult[];
  readonly dryRun: boolean;
}

export interface DeleteOutcome {
  readonly revision: number;
  /** False when there was nothing to delete; the revision is then unchanged. */
  readonly deleted: boolean;
}

export interface StoreChange {
  readonly revision: number;
  /** Store keys (`resourceKey`) that were created, changed or deleted. */
  readonly keys: readonly string[];
}

export type StoreListener = (change: StoreChange) => void;

/**
 * The policy store. Reads are synchronous, from a view every backend keeps in memory (the file
 * store holds everything; a Consul store would keep its view fresh with blocking queries and
 * call listeners when it moves), so that building a snapshot never waits on I/O. Writes are
 * asynchronous and atomic per request: every resource of an apply is stored, or none is, and the
 * revision moves once per write that changed something.
 */
export interface Store {
  /** Increments once per apply or delete that changed something; survives restarts. */
  readonly revision: number;
  /** Resources sorted by key; `kind` and `namespace` narrow the list (namespace ignored for mesh-wide kinds). */
  list(kind?: PolicyKind, namespace?: string): readonly PolicyResource[];
  /** By store key (`resourceKey(kind, namespace, name)`). */
  get(key: string): PolicyResource | undefined;
  apply(resources: readonly PolicyResource[], options?: { readonly dryRun?: boolean }): Promise<ApplyOutcome>;
  delete(kind: PolicyKind, namespace: string, name: string): Promise<DeleteOutcome>;
  /** Called after each change is durable. Returns the unsubscribe function. */
  subscribe(listener: StoreListener): () => void;
  close(): Promise<void>;
}
