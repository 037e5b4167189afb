import type { AdminApi } from '../admin-client';
import type { ParsedArgs, FlagSpec } from '../args';
import type { LoadedConfig } from '../client-config';
import type { Io } from '../io';

export interface Connection {
  readonly api: AdminApi;
  readonly config: LoadedConfig;
}

export interface CommandContext {
  readonly io: Io;
  /**
   * Reads the configuration and connects, on first use only: `apply` validates before it needs
   * the server, so a broken file is reported even when no control plane is configured.
   */
  connect(): Promise<Connection>;
}

export interface Command {
  /** The words that select it: `apply`, `token create`. */
  readonly name: string;
  readonly summary: string;
  /** Synopsis after `weftctl `: `apply -f FILE [-f FILE...] [--dry-run]`. */
  readonly usage: string;
  readonly flags: readonly FlagSpec[];
  /** Longer help: what it prints, examples. */
  readonly details?: string;
  run(ctx: CommandContext, args: ParsedArgs): Promise<number>;
}
