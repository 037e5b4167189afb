import { createLogger, weftVersion, WeftError } from '@weft/api';
import { parseFlags, USAGE, type ParsedFlags } from './flags';
import { startSidecar, type RunningSidecar } from './sidecar';
// Imported statically, not with import(): esbuild turns a dynamic import's module, and every ESM
// module it reaches (most of @weft/api), into lazily initialized wrappers whose bindings are
// mutable `var`s; the bundle then measured 1.21x main's CPU per request at full load, 1.11x with
// the static import (docs/performance.md, "One bundled file"). wait-ready itself is a few KB.
import { waitReady } from './wait-ready';

/** The weft-sidecar command. Exits the process: 0 after a signal, 1 if it cannot start, 2 on bad flags. */
export async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'wait-ready') {
    process.exit(await waitReady(argv.slice(1), (text) => void process.stderr.write(text)));
  }
  // Before the flags are checked: --version answers even next to flags that are incomplete.
  if (argv.includes('--version')) {
    process.stdout.write(`weft-sidecar ${weftVersion()}\n`);
    return;
  }
  let parsed: ParsedFlags;
  try {
    parsed = parseFlags(argv, process.env);
  } catch (err) {
    process.stderr.write(`weft-sidecar: ${(err as Error).message}\nRun weft-sidecar --help for the flags.\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return;
  }
  const logger = createLogger('sidecar');
  const abort = new AbortController();
  let running: RunningSidecar | undefined;
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn('second signal; exiting without finishing the drain', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('signal received; draining', { signal });
    abort.abort();
    if (running) void running.drain().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  try {
    running = await startSidecar({ ...parsed.options, logger, signal: abort.signal });
  } catch (err) {
    if (stopping) process.exit(0);
    const code = err instanceof WeftError ? err.code : undefined;
    logger.error(`cannot start: ${err instanceof Error ? err.message : String(err)}`, { code });
    process.exit(1);
  }
  // A signal that arrived while the last pieces were starting found nothing to drain yet.
  if (stopping) return void running.drain().then(() => process.exit(0), () => process.exit(1));
  const started = running;
  await started.whenReady();
  if (stopping) return;
  logger.info('ready', {
    outboundPort: started.ports.outbound,
    inboundPort: started.ports.inbound,
    adminPort: started.ports.admin,
    spiffeId: started.self.spiffeId,
    proxyId: started.self.proxyId,
  });
}
