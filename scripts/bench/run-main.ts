import * as fs from 'node:fs';

/** What a benchmark registers to undo (processes, temporary directories), undone last-first. */
export type Cleanups = (() => Promise<void>)[];

/**
 * Runs a benchmark's main: the Markdown report to stdout (and to `out` when given), progress on
 * stderr, and everything in `cleanups` undone whatever happens: at the end, on failure, or on
 * SIGINT/SIGTERM (then exit 130). Benchmarks start real processes; none may outlive the run.
 */
export function runBenchMain(name: string, run: () => Promise<string>, cleanups: Cleanups, log: (text: string) => void, out: string | undefined): void {
  const cleanup = async (): Promise<void> => {
    for (const step of cleanups.splice(0).reverse()) await step().catch((err: unknown) => log(`cleanup: ${String(err)}`));
  };
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      log(`${signal}: stopping everything`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  run()
    .then(async (markdown) => {
      await cleanup();
      process.stdout.write(`${markdown}\n`);
      if (out) fs.writeFileSync(out, `${markdown}\n`);
      log('done');
    })
    .catch(async (err: unknown) => {
      log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      await cleanup();
      process.exitCode = 1;
    });
}
