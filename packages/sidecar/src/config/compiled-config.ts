import type { Snapshot } from '@weft/api';
import type { SelfInfo } from '../self';
import { compile } from './compile';
import { ConfigCompileError } from './errors';
import type { CompiledConfig } from './types';

/*
 * CONTRACT file shared by control/ and the data path. The implementation lives beside it
 * (`compile.ts`, `types.ts`, `errors.ts`) so that those files need not import this one and no
 * import cycle forms.
 */
export type { CompiledConfig } from './types';
export { ConfigCompileError } from './errors';

/** Compiles a snapshot, or throws ConfigCompileError; the previous config stays in force. */
export function compileSnapshot(snapshot: Snapshot, version: string, self: SelfInfo): CompiledConfig {
  try {
    return compile(snapshot, version, self);
  } catch (err) {
    if (err instanceof ConfigCompileError) throw err;
    // A bug in the compiler must still become a NACK with a message, never a crashed stream.
    throw new ConfigCompileError(`config version ${version} could not be compiled: ${(err as Error).message}`);
  }
}
