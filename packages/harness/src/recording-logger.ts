import type { Logger } from '@weft/api';

export interface LoggedLine {
  readonly level: string;
  readonly msg: string;
  /** The line's own fields over those of the child loggers it came through. */
  readonly fields: Record<string, unknown>;
}

/**
 * A logger that keeps every line in `lines`, for tests of what the code tells the operator. With
 * WEFT_TEST_LOGS=1 it also prints them to stderr, to see what a failing test logged.
 */
export function recordingLogger(): Logger & { readonly lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const make = (base: Record<string, unknown>): Logger => {
    const write = (level: string) => (msg: string, fields: Record<string, unknown> = {}): void => {
      lines.push({ level, msg, fields: { ...base, ...fields } });
      if (process.env['WEFT_TEST_LOGS']) process.stderr.write(`${level} ${msg} ${JSON.stringify(fields)}\n`);
    };
    return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (f) => make({ ...base, ...f }) };
  };
  return Object.assign(make({}), { lines });
}
