import { WeftError } from '@weft/api';

/** A certificate or CSR could not be used; the message says what was wrong with it. */
export class PkiError extends WeftError {
  constructor(code: 'WEFT_ERR_BAD_CSR' | 'WEFT_ERR_BAD_CERTIFICATE' | 'WEFT_ERR_BAD_KEY', message: string) {
    super(code, message);
  }
}
