import { WeftError } from '@weft/api';

export type PkiErrorCode = 'WEFT_ERR_BAD_CSR' | 'WEFT_ERR_BAD_CERTIFICATE' | 'WEFT_ERR_BAD_KEY' | 'WEFT_ERR_UNSUPPORTED_KEY';

/**
 * A certificate, CSR or key could not be used; the message says what was wrong with it.
 * WEFT_ERR_UNSUPPORTED_KEY: a well-formed key of a kind Weft does not sign or sign with.
 */
export class PkiError extends WeftError {
  constructor(code: PkiErrorCode, message: string) {
    super(code, message);
  }
}
