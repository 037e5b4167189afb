import type { Logger } from '@weft/api';

/** A logger that drops everything: for code under test whose log lines would clutter the output. */
export const quietLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => quietLogger,
};
