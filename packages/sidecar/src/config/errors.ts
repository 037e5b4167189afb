import { WeftError } from '@weft/api';

/** A snapshot that cannot be compiled. Its message is what the NACK carries. */
export class ConfigCompileError extends WeftError {
  constructor(message: string) {
    super('WEFT_ERR_CONFIG_REJECTED', message);
  }
}
