import { createLogger, weftVersion } from '@weft/api';
import { ControlPlaneError } from './errors';
import { parseFlags, USAGE } from './flags';
import type { RunningControlPlane } from './options';
import { startControlPlane } from './server';

/** Flags are wrong: exit 2, as command-line tools do for usage errors. */
const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;
/** A stop that takes longer than this is cut short. */
const SHUTDOWN_DEADLINE_MS = 15_000;

/** Entry point of `weft-control-plane`: flags, start, and a graceful stop on SIGTERM or SIGINT. */
export async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseFlags(argv);
  } catch (err) {
    process.stderr.write(`weft-control-plane: ${(err as Error).message}\nRun 'weft-control-plane --help' for the flags.\n`);
    process.exitCode = EXIT_USAGE;
    return;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (parsed.version) {
    process.stdout.write(`weft-control-plane ${weftVersion()}\n`);
    return;
  }
  const log = createLogger('control-plane');
  // Handlers go in before starting, so that a signal during startup is a clean stop too
  // (without a handler the kernel would kill the process mid-write).
  let stopRequested: NodeJS.Signals | undefined;
  let stopNow: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopRequested) {
      log.warn('second signal: exiting now', { signal });
      process.exit(EXIT_FAILURE);
    }
    stopRequested = signal;
    log.info('shutting down', { signal });
    setTimeout(() => {
      log.error('shutdown took too long: exiting', { deadlineMs: SHUTDOWN_DEADLINE_MS });
      process.exit(EXIT_FAILURE);
    }, SHUTDOWN_DEADLINE_MS).unref();
    stopNow?.(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  let running: RunningControlPlane;
  try {
    running = await startControlPlane({ ...parsed.options, logger: log });
  } catch (err) {
    log.error('cannot start', { error: err instanceof Error ? err : String(err) });
    process.exitCode = err instanceof ControlPlaneError && err.code === 'WEFT_ERR_BAD_FLAG' ? EXIT_USAGE : EXIT_FAILURE;
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    return;
  }
  stopNow = () => {
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error('shutdown failed', { error: err instanceof Error ? err : String(err) });
        process.exit(EXIT_FAILURE);
      },
    );
  };
  if (stopRequested) stopNow(stopRequested);
}
