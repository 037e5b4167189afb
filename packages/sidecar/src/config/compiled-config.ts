import type { EffectiveMeshConfig, Snapshot } from '@weft/api';
import { WeftError } from '@weft/api';
import type { SelfInfo } from '../self';

/**
 * A snapshot from the control plane compiled into frozen lookup tables. Built once per config
 * version; the request path reads it and never parses policy.
 *
 * CONTRACT (shared by control/ and the data path): only the members below are used outside the
 * data path. The data path adds its own lookup members.
 */
export interface CompiledConfig {
  readonly version: string;
  readonly storeRevision: number;
  readonly mesh: EffectiveMeshConfig;
  readonly trustBundlePem: readonly string[];
  /** JSON-safe view of what is in force (routes, endpoints), for the admin `/config` page. */
  describe(): unknown;
}

/** A snapshot that cannot be compiled. Its message is what the NACK carries. */
export class ConfigCompileError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_CONFIG_REJECTED', message);
  }
}

/** Compiles a snapshot, or throws ConfigCompileError; the previous config stays in force. */
export function compileSnapshot(_snapshot: Snapshot, _version: string, _self: SelfInfo): CompiledConfig {
  throw new ConfigCompileError('not implemented yet');
}
