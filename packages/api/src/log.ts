export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}

function threshold(): number {
  const level = (process.env['WEFT_LOG_LEVEL'] ?? 'info').toLowerCase();
  return ORDER[level as LogLevel] ?? ORDER.info;
}

/**
 * JSON-lines logger on stderr (stdout stays free for a command's output). Errors are logged by
 * message and code only: stacks and causes may carry key material, and logs must never.
 */
export function createLogger(component: string, base: Record<string, unknown> = {}): Logger {
  const min = threshold();
  const write = (level: LogLevel, msg: string, fields?: Record<string, unknown>): void => {
    if (ORDER[level] < min) return;
    const line: Record<string, unknown> = { time: new Date().toISOString(), level, component, msg, ...base };
    for (const [k, v] of Object.entries(fields ?? {})) {
      line[k] = v instanceof Error ? { message: v.message, code: (v as { code?: unknown }).code } : v;
    }
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(component, { ...base, ...fields }),
  };
}
