import type { Logger } from '@weft/api';

/** A logger that drops everything: for sidecars whose log lines (ejections) would clutter test output. */
export const QUIET_LOG: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => QUIET_LOG,
};
