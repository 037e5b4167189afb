import { WeftError } from '@weft/api';

/** Exit codes: scripts branch on them, so they never change meaning. */
export const EXIT = Object.freeze({ ok: 0, failed: 1, usage: 2 });

/** The command line itself is wrong (unknown flag, missing argument): exit 2, with a pointer to --help. */
export class UsageError extends WeftError {
  /** The command whose help to point at (`apply`), or '' for the tool. */
  readonly command: string;

  constructor(message: string, command = '') {
    super('WEFT_ERR_USAGE', message);
    this.command = command;
  }
}

/**
 * The operation failed (control plane unreachable, resource not found, rejected by the server).
 * `plain` messages are printed exactly as they are (the server's validation report, one issue per
 * line); others get an `error: ` prefix.
 */
export class CliError extends WeftError {
  readonly plain: boolean;

  constructor(code: string, message: string, options: { plain?: boolean; cause?: unknown } = {}) {
    super(code, message, { cause: options.cause });
    this.plain = options.plain ?? false;
  }
}
